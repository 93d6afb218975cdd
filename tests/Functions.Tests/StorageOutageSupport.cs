// What the storage-outage test classes share (StorageOutageTests, StorageOutageDuringBuildTests):
// timed requests, the answers a fault may get, a capped poll, an image stored as a build leaves
// it, and log lines to wait on as events.
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Nixery.Core.Manifests;
using Nixery.Core.Names;
using Nixery.Core.Sources;
using Nixery.Core.Storage;
using Nixery.TestSupport;

namespace Nixery.Functions.Tests;

/// <summary>An image stored by <see cref="OutageRequests.PutImageAsync"/>: its manifest, config and one layer.</summary>
internal sealed record StoredImage(Digest Manifest, Digest Config, Digest Layer, byte[] LayerBytes);

internal static class OutageRequests
{
    public static async Task<(HttpResponseMessage Response, TimeSpan Elapsed)> TimedGetAsync(HttpClient client, string path)
    {
        var clock = Stopwatch.StartNew();
        var response = await client.GetAsync(path);
        await response.Content.LoadIntoBufferAsync();
        return (response, clock.Elapsed);
    }

    /// <summary>503 UNAVAILABLE with Retry-After; returns the message.</summary>
    public static async Task<string> AssertUnavailableAsync(HttpResponseMessage response)
    {
        var message = await ErrorAssert.HasErrorAsync(response, HttpStatusCode.ServiceUnavailable, "UNAVAILABLE");
        Assert.NotNull(response.Headers.RetryAfter?.Delta);
        return message;
    }

    /// <summary>A fault that is not the client's: 503 UNAVAILABLE, or 429 TOOMANYREQUESTS for a
    /// build still waiting; either with Retry-After.</summary>
    public static async Task AssertRetryLaterAsync(HttpResponseMessage response)
    {
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            await ErrorAssert.HasErrorAsync(response, HttpStatusCode.TooManyRequests, "TOOMANYREQUESTS");
            Assert.NotNull(response.Headers.RetryAfter?.Delta);
        }
        else
        {
            await AssertUnavailableAsync(response);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails after <paramref name="cap"/> (a bound, not a wait).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan cap)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < cap, $"{what} did not happen within {cap}");
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    public static async Task<string> ImageKeyAsync(RegistryInstance registry, string name)
    {
        var (selection, source) = await registry.Services.GetRequiredService<SourceCatalog>().ResolveAsync(name, SourceCatalog.LatestTag, CancellationToken.None);
        return ImageKeys.For(ImageRequest.FromName(selection.Packages), source);
    }

    /// <summary>An image as a build leaves it: blobs, the manifest, the image record last.</summary>
    public static async Task<StoredImage> PutImageAsync(RegistryInstance registry, string name)
    {
        var store = registry.Store;
        var layerBytes = RandomNumberGenerator.GetBytes(4096);
        var layer = await store.PutBlobAsync(layerBytes, MediaTypes.OctetStream, CancellationToken.None);
        var configJson = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\"}");
        var config = await store.PutBlobAsync(configJson, MediaTypes.OctetStream, CancellationToken.None);
        var manifestJson = Encoding.UTF8.GetBytes(
            "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.DockerManifest + "\","
            + "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":" + configJson.Length + ",\"digest\":\"" + config + "\"},"
            + "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":" + layerBytes.Length + ",\"digest\":\"" + layer + "\"}]}");
        var manifest = await store.PutBlobAsync(manifestJson, MediaTypes.DockerManifest, CancellationToken.None);
        var (selection, source) = await registry.Services.GetRequiredService<SourceCatalog>().ResolveAsync(name, SourceCatalog.LatestTag, CancellationToken.None);
        var image = ImageRequest.FromName(selection.Packages);
        await store.PutImageAsync(ImageKeys.For(image, source), new ImageRecord(manifest.ToString(), MediaTypes.DockerManifest, manifestJson.Length, image.Packages), CancellationToken.None);
        return new StoredImage(manifest, config, layer, layerBytes);
    }
}

/// <summary>The log lines of the named categories, one after another, as events to wait for.</summary>
internal sealed class LogLines(params string[] categories) : ILoggerProvider
{
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    public ILogger CreateLogger(string categoryName) =>
        categories.Contains(categoryName, StringComparer.Ordinal) ? new Lines(_lines.Writer) : NullLogger.Instance;

    /// <summary>The next line, within <paramref name="cap"/> (a bound, not a wait).</summary>
    public async Task<string> NextAsync(TimeSpan cap) => await _lines.Reader.ReadAsync().AsTask().WaitAsync(cap);

    /// <summary>The first line containing <paramref name="text"/>, within <paramref name="cap"/> (a bound, not a wait).</summary>
    public async Task<string> UntilAsync(string text, TimeSpan cap)
    {
        using var timeout = new CancellationTokenSource(cap);
        await foreach (var line in _lines.Reader.ReadAllAsync(timeout.Token))
        {
            if (line.Contains(text, StringComparison.Ordinal))
            {
                return line;
            }
        }

        throw new InvalidOperationException("the log ended");
    }

    public void Dispose() => _lines.Writer.TryComplete();

    private sealed class Lines(ChannelWriter<string> writer) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            writer.TryWrite(formatter(state, exception));
    }
}
