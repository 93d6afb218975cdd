// A request to build one image, as it travels through the queue. Versioned: a worker that
// meets a message of a version it does not know fails the job with that reason instead of
// guessing. Everything the worker needs is in the message; it never reads the HTTP request.
// Two optional fields serve telemetry only (Core/Telemetry): when the job was enqueued (the
// queue wait) and the W3C traceparent of the request that enqueued it (one trace per build).
using System.Text.Json.Serialization;
using Nixery.Core.Names;
using Nixery.Core.Sources;

namespace Nixery.Core.Queue;

public sealed record BuildJob(
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("jobId")] string JobId,
    [property: JsonPropertyName("imageKey")] string ImageKey,
    [property: JsonPropertyName("image")] ImageRequest Image,
    [property: JsonPropertyName("source")] PackageSource Source,
    [property: JsonPropertyName("enqueued"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? Enqueued = null,
    [property: JsonPropertyName("traceParent"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TraceParent = null)
{
    /// <summary>2: Image.Packages as named (with `shell`), expanded by the worker from the set it fetches.</summary>
    public const int CurrentVersion = 2;
}
