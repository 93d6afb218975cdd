// Issue 15, Done-when 3: with in-memory OpenTelemetry exporters on the embedded default, a
// cold pull gives one trace that links the HTTP request, the queue and the worker's phases,
// and the metrics count a pull of a package that is not there (built and failed, as no package
// index exists yet), a cold pull and a warm pull.
// The meter and the activity source are process-wide, so this class runs alone (its own
// collection, not parallel with the others) and counts only what it caused.
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Nixery.Core.Azure;
using Nixery.Core.Manifests;
using Nixery.TestSupport;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Nixery.EndToEnd.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "telemetry (process-wide listeners)";
}

[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTests
{
    [Fact]
    public async Task OneTraceLinksRequestQueueAndPhasesAndMetricsCountPulls()
    {
        using var temp = new TempDir("nixery-e2e-telemetry");
        var spans = new List<Activity>();
        var metrics = new List<MetricSnapshot>();
        var settings = new Dictionary<string, string?> { ["NIXERY_BUILD_WAIT"] = "600" };
        await using (var registry = await RegistryInstance.StartAsync(temp.Combine("storage"), settings, services =>
            services.AddRegistryTelemetry(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build(), "nixery-test", exporters: otel => otel
                .WithTracing(t => t.AddInMemoryExporter(spans))
                .WithMetrics(m => m.AddInMemoryExporter(metrics)))))
        {
            // A package the set does not have, first: no package index exists yet (the first
            // build publishes it), so the build runs and fails, and the pull is 404.
            Assert.Equal(HttpStatusCode.NotFound, (await GetManifestAsync(registry, "nosuchpackagehere")).StatusCode);
            // Cold: the request waits for the build (NIXERY_BUILD_WAIT) and gets the manifest.
            var cold = await GetManifestAsync(registry, "coreutils");
            Assert.Equal(HttpStatusCode.OK, cold.StatusCode);
            var layers = ManifestLayers(await cold.Content.ReadAsStringAsync());
            // Warm: served from storage, no build.
            Assert.Equal(HttpStatusCode.OK, (await GetManifestAsync(registry, "coreutils")).StatusCode);

            registry.Services.GetRequiredService<TracerProvider>().ForceFlush();
            registry.Services.GetRequiredService<MeterProvider>().ForceFlush();

            // The trace: request → enqueue build → build → phases.
            var build = spans.Single(s => s.DisplayName == "build" && (string?)s.GetTagItem("nixery.image") == "coreutils");
            Assert.Equal(ActivityKind.Consumer, build.Kind);
            Assert.Equal("built", build.GetTagItem("nixery.outcome"));
            var enqueue = spans.Single(s => s.SpanId == build.ParentSpanId);
            Assert.Equal("enqueue build", enqueue.DisplayName);
            Assert.Equal(ActivityKind.Producer, enqueue.Kind);
            var request = spans.Single(s => s.SpanId == enqueue.ParentSpanId);
            Assert.Equal("Microsoft.AspNetCore", request.Source.Name);
            Assert.Equal(ActivityKind.Server, request.Kind);
            Assert.Equal(build.TraceId, request.TraceId);

            var trace = spans.Where(s => s.TraceId == build.TraceId).ToList();
            foreach (var phase in new[] { "source checkout", "nix evaluate", "nix realise", "group layers", "pack layers", "write manifests" })
            {
                var span = Assert.Single(trace, s => s.DisplayName == phase);
                Assert.True(Descends(span, build, trace), $"{phase} is not under the build span");
            }

            var packed = trace.Where(s => s.DisplayName == "pack layer").ToList();
            Assert.Equal(layers.Count, packed.Count);
            Assert.All(packed, p => Assert.True(Descends(p, build, trace), "a pack layer span is not under the build span"));

            // The metrics, from the last (cumulative) export.
            Assert.Equal(2, Sum(metrics, "nixery.manifest.requests", "http.response.status_code", 200));
            Assert.Equal(1, Sum(metrics, "nixery.manifest.requests", "http.response.status_code", 404));
            Assert.Equal(0, Sum(metrics, "nixery.manifest.requests", "http.response.status_code", 429));
            Assert.Equal(1, Sum(metrics, "nixery.builds", "outcome", "built"));
            Assert.Equal(1, Sum(metrics, "nixery.builds", "outcome", "failed"));
            Assert.Equal(2, Count(metrics, "nixery.build.duration", null, null));
            Assert.Equal(2, Count(metrics, "nixery.queue.wait", null, null));
            Assert.Equal(layers.Count, Sum(metrics, "nixery.layer.cache.lookups", "result", "miss"));
            Assert.Equal(0, Sum(metrics, "nixery.layer.cache.lookups", "result", "hit"));
            Assert.Equal(layers.Sum(l => l.Size), Sum(metrics, "nixery.layer.packed.size", null, null));
            Assert.Equal(0, Sum(metrics, "nixery.blob.redirects", null, null));
            Assert.Equal(2, Count(metrics, "nixery.build.phase.duration", "phase", "checkout"));
            Assert.Equal(2, Count(metrics, "nixery.build.phase.duration", "phase", "evaluate"));
            foreach (var phase in new[] { "realise", "group", "pack", "manifests" })
            {
                Assert.Equal(1, Count(metrics, "nixery.build.phase.duration", "phase", phase));
            }

            // A second image that shares coreutils' layers finds them in the cache.
            Assert.Equal(HttpStatusCode.OK, (await GetManifestAsync(registry, "coreutils/bash")).StatusCode);
            registry.Services.GetRequiredService<MeterProvider>().ForceFlush();
            Assert.True(Sum(metrics, "nixery.layer.cache.lookups", "result", "hit") > 0, "no layer of coreutils/bash was a cache hit");
        }
    }

    private static async Task<HttpResponseMessage> GetManifestAsync(RegistryInstance registry, string name)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{name}/manifests/latest");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.DockerManifest));
        return await registry.Client.SendAsync(request);
    }

    private static List<(string Digest, long Size)> ManifestLayers(string json)
    {
        using var document = JsonDocument.Parse(json);
        return [.. document.RootElement.GetProperty("layers").EnumerateArray().Select(l => (l.GetProperty("digest").GetString()!, l.GetProperty("size").GetInt64()))];
    }

    private static bool Descends(Activity span, Activity ancestor, List<Activity> trace)
    {
        for (var current = span; current is not null; current = trace.FirstOrDefault(s => s.SpanId == current.ParentSpanId))
        {
            if (current.ParentSpanId == ancestor.SpanId)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The points of the named metric in its latest export whose tag matches (every point when the tag is null).</summary>
    private static IEnumerable<MetricPoint> Points(List<MetricSnapshot> metrics, string name, string? tag, object? value)
    {
        var latest = metrics.LastOrDefault(m => m.Name == name);
        if (latest is null)
        {
            return [];
        }

        return latest.MetricPoints.Where(p =>
        {
            if (tag is null)
            {
                return true;
            }

            foreach (var t in p.Tags)
            {
                if (t.Key == tag && Equals(Convert.ToString(t.Value, System.Globalization.CultureInfo.InvariantCulture), Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)))
                {
                    return true;
                }
            }

            return false;
        });
    }

    private static long Sum(List<MetricSnapshot> metrics, string name, string? tag, object? value) =>
        Points(metrics, name, tag, value).Sum(p => p.GetSumLong());

    private static long Count(List<MetricSnapshot> metrics, string name, string? tag, object? value) =>
        Points(metrics, name, tag, value).Sum(p => p.GetHistogramCount());
}
