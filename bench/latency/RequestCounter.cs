// Counts the HTTP requests the Azure SDK sends (after its retry policy, so a retried request
// counts each time it goes out), by method and by the area of the storage layout the blob is
// in: what one IStorageBackend call costs on Azure, which is not always one request (a staged
// upload is Put Block per 8 MiB, Put Block List, a copy and a delete).
using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;
using Nixery.TestSupport;

namespace Nixery.Bench.Latency;

internal sealed class RequestCounter : HttpPipelinePolicy
{
    private readonly ConcurrentDictionary<string, int> _requests = new();

    public int Total => _requests.Values.Sum();

    public void Reset() => _requests.Clear();

    /// <summary>"METHOD area comp: n" lines in ordinal order.</summary>
    public string Describe() => string.Join('\n', _requests.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}: {r.Value}"));

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Count(message);
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Count(message);
        return ProcessNextAsync(message, pipeline);
    }

    private void Count(HttpMessage message)
    {
        var uri = message.Request.Uri.ToUri();
        // /<account>/<container>/<blob path>
        var segments = uri.AbsolutePath.TrimStart('/').Split('/', 3);
        var area = segments.Length == 3 ? CountingStorage.AreaOf(Uri.UnescapeDataString(segments[2])) : "(container)";
        var comp = System.Web.HttpUtility.ParseQueryString(uri.Query)["comp"];
        var key = $"{message.Request.Method} {area}{(comp is null ? "" : " comp=" + comp)}";
        _requests.AddOrUpdate(key, 1, (_, n) => n + 1);
    }
}
