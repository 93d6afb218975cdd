// Records the HTTP requests the Azure SDK sends (added per retry, so a retried request is
// recorded each time it goes out), as "METHOD path[ comp=…]" with the blob's path in the
// storage layout and staging uploads named "staging": what one IStorageBackend call costs on
// Azure, which is not always one request (a staged upload is Put Block per 8 MiB, Put Block
// List, a copy and a delete). Tests take the requests in order; the latency bench counts them
// by area of the layout.
using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;
using Nixery.Core.Storage;

namespace Nixery.TestSupport;

public sealed class AzureRequestLog : HttpPipelinePolicy
{
    private readonly ConcurrentQueue<(string Method, string Path, string? Comp)> _requests = new();

    /// <summary>The requests since the last call, in the order they went out.</summary>
    public List<string> Take() => [.. TakeRaw().Select(r => $"{r.Method} {(r.Path.StartsWith(StorageLayout.StagingPrefix, StringComparison.Ordinal) ? "staging" : r.Path)}{(r.Comp is null ? "" : " comp=" + r.Comp)}")];

    /// <summary>The requests since the last call, counted by "METHOD area[ comp=…]" (area as
    /// CountingStorage.AreaOf), in ordinal order.</summary>
    public List<(string Request, int Count)> TakeByArea() => [.. TakeRaw()
        .GroupBy(r => $"{r.Method} {(r.Path.Length == 0 ? "(container)" : CountingStorage.AreaOf(r.Path))}{(r.Comp is null ? "" : " comp=" + r.Comp)}")
        .OrderBy(g => g.Key, StringComparer.Ordinal)
        .Select(g => (g.Key, g.Count()))];

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Record(message);
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Record(message);
        return ProcessNextAsync(message, pipeline);
    }

    private List<(string Method, string Path, string? Comp)> TakeRaw()
    {
        var taken = new List<(string, string, string?)>();
        while (_requests.TryDequeue(out var request))
        {
            taken.Add(request);
        }

        return taken;
    }

    private void Record(HttpMessage message)
    {
        // /<account>/<container>/<blob path>
        var uri = message.Request.Uri.ToUri();
        var path = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/').Split('/', 3) is [_, _, var blob] ? blob : "");
        _requests.Enqueue((message.Request.Method.ToString(), path, System.Web.HttpUtility.ParseQueryString(uri.Query)["comp"]));
    }
}
