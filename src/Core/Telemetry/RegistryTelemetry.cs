// What the registry tells OpenTelemetry (issue 15): one ActivitySource and one Meter, both
// named "Nixery", used by the HTTP side, the queue and the worker alike. They cost nothing
// until a listener subscribes: the apps subscribe through TelemetryRegistration
// (src/Core.Azure), which exports to Azure Monitor or OTLP when their settings are there.
//
// One trace per build: the HTTP request that misses (ASP.NET Core's own "Microsoft.AspNetCore"
// activity, or the Functions invocation's) parents the "enqueue build" producer span; its W3C
// traceparent rides in the job (BuildJob.TraceParent), so the worker's "build" consumer span,
// wherever and whenever it runs, continues that trace; the phases are its children:
//
//   GET /v2/<name>/manifests/<tag>            (the framework's request span)
//     enqueue build        producer          nixery.image, nixery.job
//       build              consumer          nixery.image, nixery.job, nixery.attempt, nixery.outcome
//         source checkout
//         nix evaluate
//         nix realise
//         group layers                         nixery.layers
//         pack layer       one per layer packed here; nixery.layer, nixery.bytes
//         write manifests
//
// Metric names and units follow OpenTelemetry's conventions (dotted names, UCUM units); the
// README lists them ("Telemetry").
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Nixery.Core.Telemetry;

public static class RegistryTelemetry
{
    /// <summary>The name of the ActivitySource and of the Meter.</summary>
    public const string Name = "Nixery";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    /// <summary>Builds that ended, by outcome: built, failed (the user's or Nix's), threw (the
    /// queue delivers the job again).</summary>
    public static readonly Counter<long> Builds = Meter.CreateCounter<long>("nixery.builds", "{build}", "Builds that ended, by outcome.");

    public static readonly Histogram<double> BuildDuration = Meter.CreateHistogram<double>("nixery.build.duration", "s", "Time a worker spent on a build, by outcome.");

    public static readonly Histogram<double> PhaseDuration = Meter.CreateHistogram<double>("nixery.build.phase.duration", "s", "Time a build spent in each phase: checkout, evaluate, realise, group, pack, manifests.");

    public static readonly Histogram<double> QueueWait = Meter.CreateHistogram<double>("nixery.queue.wait", "s", "Time from a build's enqueueing to a worker taking it.");

    public static readonly Counter<long> LayerLookups = Meter.CreateCounter<long>("nixery.layer.cache.lookups", "{layer}", "Layers a build needed, by result: hit (reused) or miss (packed by this build).");

    public static readonly Counter<long> BytesPacked = Meter.CreateCounter<long>("nixery.layer.packed.size", "By", "Compressed bytes of the layers packed.");

    public static readonly Counter<long> ManifestRequests = Meter.CreateCounter<long>("nixery.manifest.requests", "{request}", "Manifest requests, by response status code (200, 404, 429 …).");

    public static readonly Counter<long> BlobRedirects = Meter.CreateCounter<long>("nixery.blob.redirects", "{redirect}", "Blob downloads redirected to the storage service.");

    /// <summary>The W3C traceparent of the current span, for a job to carry; null when nothing traces.</summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>The worker's span of one delivery of a job, continuing the trace of the request
    /// that enqueued it when the job carries one.</summary>
    public static Activity? StartBuild(string? traceParent) =>
        Source.StartActivity(
            "build",
            ActivityKind.Consumer,
            traceParent is not null && ActivityContext.TryParse(traceParent, null, out var parent) ? parent : default);

    /// <summary>A phase of a build: a child span, and its time in nixery.build.phase.duration.</summary>
    public static Phase StartPhase(string spanName, string phase) => new(Source.StartActivity(spanName), phase);

    /// <summary>A phase under way; ending it (once: later calls do nothing) stops its span and
    /// records its duration. A phase that threw is ended too, and its span says so.</summary>
    public sealed class Phase(Activity? activity, string phase) : IDisposable
    {
        private readonly long _started = Stopwatch.GetTimestamp();

        private int _ended;

        public Activity? Activity => activity;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) != 0)
            {
                return;
            }

            PhaseDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, new KeyValuePair<string, object?>("phase", phase));
            activity?.Dispose();
        }
    }
}
