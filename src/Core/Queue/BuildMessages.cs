// The text of a build job as it travels through a Storage queue, and of the record a job
// that fails for good leaves in the poison queue.
//
//   queue message   Base64 of the UTF-8 JSON of a BuildJob (CoreJson.Default.BuildJob):
//                     eyJ2ZXJzaW9uIjoyLCJqb2JJZCI6Ii4uLiIsImltYWdlS2V5IjoiLi4uIiwi…
//   poison record   Base64 of {"job": <the job's JSON text>, "reason": …, "dequeueCount": n}
//
// Base64 because the Functions queue trigger decodes it by default (host.json
// "messageEncoding": "base64"): the build function receives the JSON text. The poison queue
// holds records written by the build function (a build that failed for good, with its
// reason) and, after host.json's maxDequeueCount failed deliveries, the original message
// moved there by the Functions host itself.
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Nixery.Core.Manifests;

namespace Nixery.Core.Queue;

/// <summary>What the build function writes to the poison queue for a job it will not retry.</summary>
public sealed record PoisonRecord(
    [property: JsonPropertyName("job")] string Job,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("dequeueCount")] int DequeueCount);

public static class BuildMessages
{
    /// <summary>The service's limit on message text (64 KiB).</summary>
    public const int MaxMessageChars = 64 * 1024;

    public static string Encode(BuildJob job) => Base64(JsonSerializer.Serialize(job, CoreJson.Default.BuildJob));

    /// <summary>The job in a decoded message text, or null with the reason it is not one this
    /// code can build.</summary>
    public static (BuildJob? Job, string Reason) Parse(string text)
    {
        try
        {
            using (var document = JsonDocument.Parse(text))
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return (null, $"the message is JSON {document.RootElement.ValueKind}, not a build job object");
                }

                if (!document.RootElement.TryGetProperty("version", out var version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var number))
                {
                    return (null, "the message has no whole-number \"version\", so it is not a build job");
                }

                if (number != BuildJob.CurrentVersion)
                {
                    return (null, $"build job version {number} is not understood by this worker (it reads version {BuildJob.CurrentVersion})");
                }
            }

            var job = JsonSerializer.Deserialize(text, CoreJson.Default.BuildJob);
            if (job is null || job.JobId is null || job.ImageKey is null || job.Image?.Name is null || job.Image.Packages is null || job.Image.Arch is null || job.Source is null)
            {
                return (null, "the message is a JSON object but lacks fields a build job needs (jobId, imageKey, image, source)");
            }

            return (job, "");
        }
        catch (JsonException e)
        {
            return (null, $"the message is not a valid build job: {e.Message}");
        }
    }

    /// <summary>The poison record's JSON text (the queue output binding Base64-encodes it). A
    /// job near the size limit does not fit once wrapped and encoded again: the start of it
    /// is kept, which is enough to tell what it was.</summary>
    public static string Poison(string jobText, string reason, int dequeueCount)
    {
        var job = jobText;
        while (true)
        {
            var json = JsonSerializer.Serialize(new PoisonRecord(job, reason, dequeueCount), QueueJson.Default.PoisonRecord);
            if (Base64(json).Length <= MaxMessageChars || job.Length == 0)
            {
                return json;
            }

            job = job[..(job.Length / 2)];
            reason = reason.EndsWith(" (job text truncated)", StringComparison.Ordinal) ? reason : reason + " (job text truncated)";
        }
    }

    public static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}

[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(PoisonRecord))]
internal sealed partial class QueueJson : JsonSerializerContext;
