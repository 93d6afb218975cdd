// status/<image-key>.json as stored: the state of one image's build and what a waiting
// client is told about it. Written only by the BuildLedger, which documents the states and
// their transitions; everything else reads it.
using System.Text.Json.Serialization;

namespace Nixery.Core.Builds;

[JsonConverter(typeof(JsonStringEnumConverter<BuildState>))]
public enum BuildState
{
    Queued,
    Building,
    Failed,
    Done,
}

/// <summary>status/&lt;image-key&gt;.json — what the HTTP side tells a client that waits.
/// A failed status also names the image (its sorted name, e.g. "git/shell"), so that the list
/// of recent failures can say which image failed, and so does a building one (the worker's
/// heartbeats) and a done one, for the web page's builds in progress and recent builds; records written before Image existed
/// lack it and read as null. While a worker packs layers it records its progress (layers ready of
/// the image's total, their compressed bytes, and since when it packs), from which the HTTP side estimates the time
/// left (BuildCoordinator). Records written since recovery by heartbeat also name the job they
/// stand for (its id: a delivery of another job is superseded, BuildJobRunner) and, while an
/// attempt runs, when it last said it was alive (heartbeat; BuildLedger.IsStale).</summary>
public sealed record BuildStatus(
    [property: JsonPropertyName("state")] BuildState State,
    [property: JsonPropertyName("updated")] DateTimeOffset Updated,
    [property: JsonPropertyName("reason"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null,
    [property: JsonPropertyName("missing"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Missing = null,
    [property: JsonPropertyName("log"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? LogTail = null,
    [property: JsonPropertyName("image"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Image = null,
    [property: JsonPropertyName("layersReady"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? LayersReady = null,
    [property: JsonPropertyName("layersTotal"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? LayersTotal = null,
    [property: JsonPropertyName("packingSince"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? PackingSince = null,
    [property: JsonPropertyName("job"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Job = null,
    [property: JsonPropertyName("heartbeat"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? Heartbeat = null,
    [property: JsonPropertyName("layersBytes"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? LayersBytes = null);
