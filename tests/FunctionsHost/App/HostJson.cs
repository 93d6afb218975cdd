// The parts of host.json the emulator acts on, with the host's defaults:
//   extensions.http.routePrefix  default "api" (the worker reads the same file for its own
//                                routing: Worker.Extensions.Http.AspNetCore/src/AspNetMiddleware/
//                                FunctionsEndpointDataSource.cs)
//   extensions.queues            QueuesOptions defaults (azure-sdk-for-net sdk/storage/
//                                Microsoft.Azure.WebJobs.Extensions.Storage.Common/src/Shared/
//                                Queues/QueuesOptions.cs): batchSize 16 (1..32), newBatchThreshold
//                                batchSize/2 × processors when unset, maxDequeueCount 5,
//                                visibilityTimeout 0, maxPollingInterval 1 min (≥ 100 ms),
//                                messageEncoding base64
//   functionTimeout              "hh:mm:ss", "-1" for none; unset means the plan's default, which
//                                here is 30 min (Flex Consumption and dedicated plans)
using System.Globalization;
using System.Text.Json;

namespace Nixery.FunctionsHost;

internal sealed record QueuesSettings(int BatchSize, int NewBatchThreshold, int MaxDequeueCount, TimeSpan VisibilityTimeout, TimeSpan MaxPollingInterval, bool Base64)
{
    /// <summary>The host never polls faster than this (QueuePollingIntervals.Minimum).</summary>
    public static readonly TimeSpan MinimumPollingInterval = TimeSpan.FromMilliseconds(100);
}

internal sealed record HostJson(string RoutePrefix, QueuesSettings Queues, TimeSpan? FunctionTimeout)
{
    public const string DefaultRoutePrefix = "api";

    public static readonly TimeSpan DefaultFunctionTimeout = TimeSpan.FromMinutes(30);

    public static HostJson Read(string appDirectory)
    {
        var path = Path.Combine(appDirectory, "host.json");
        if (!File.Exists(path))
        {
            return Parse("{}", path);
        }

        return Parse(File.ReadAllText(path), path);
    }

    public static HostJson Parse(string text, string source)
    {
        using var json = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var root = json.RootElement;
        var extensions = Child(root, "extensions");
        var http = Child(extensions, "http");
        var queues = Child(extensions, "queues");

        var batchSize = Int(queues, "batchSize", source) ?? 16;
        if (batchSize is < 1 or > 32)
        {
            throw new InvalidOperationException($"{source}: extensions.queues.batchSize is {batchSize}; it must be 1 to 32 (a queue hands out at most 32 messages at once).");
        }

        var threshold = Int(queues, "newBatchThreshold", source) ?? batchSize / 2 * Environment.ProcessorCount;
        var maxDequeue = Int(queues, "maxDequeueCount", source) ?? 5;
        if (maxDequeue < 1 || threshold < 0)
        {
            throw new InvalidOperationException($"{source}: extensions.queues.maxDequeueCount must be at least 1 and newBatchThreshold at least 0.");
        }

        var maxPolling = Time(queues, "maxPollingInterval", source) ?? TimeSpan.FromMinutes(1);
        if (maxPolling < QueuesSettings.MinimumPollingInterval)
        {
            throw new InvalidOperationException($"{source}: extensions.queues.maxPollingInterval must not be less than {QueuesSettings.MinimumPollingInterval}.");
        }

        var encoding = Text(queues, "messageEncoding") ?? "base64";
        var base64 = encoding.ToLowerInvariant() switch
        {
            "base64" => true,
            "none" => false,
            _ => throw new InvalidOperationException($"{source}: extensions.queues.messageEncoding is \"{encoding}\"; it must be \"base64\" or \"none\"."),
        };

        var timeoutText = Text(root, "functionTimeout");
        TimeSpan? timeout = timeoutText switch
        {
            null => DefaultFunctionTimeout,
            "-1" => null,
            _ => ParseTime(timeoutText, "functionTimeout", source),
        };

        return new HostJson(
            Text(http, "routePrefix") ?? DefaultRoutePrefix,
            new QueuesSettings(batchSize, threshold, maxDequeue, Time(queues, "visibilityTimeout", source) ?? TimeSpan.Zero, maxPolling, base64),
            timeout);
    }

    private static JsonElement Child(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && TryGet(element, name, out var child) ? child : default;

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && TryGet(element, name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int? Int(JsonElement element, string name, string source)
    {
        if (element.ValueKind != JsonValueKind.Object || !TryGet(element, name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : throw new InvalidOperationException($"{source}: {name} must be a whole number.");
    }

    private static TimeSpan? Time(JsonElement element, string name, string source)
    {
        var text = Text(element, name);
        return text is null ? null : ParseTime(text, name, source);
    }

    private static TimeSpan ParseTime(string text, string name, string source) =>
        TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value) && value >= TimeSpan.Zero
            ? value
            : throw new InvalidOperationException($"{source}: {name} is \"{text}\"; it must be a time span such as \"00:05:00\".");

    // host.json keys are case-insensitive for the host (its configuration binder ignores case).
    private static bool TryGet(JsonElement element, string name, out JsonElement value)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        value = default;
        return false;
    }
}
