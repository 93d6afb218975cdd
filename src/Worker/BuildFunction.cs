// The build function: the Functions host's queue trigger hands it one build job at a time
// (host.json: batchSize 1, newBatchThreshold 0 — a build uses every core of its instance),
// and the platform does what a queue consumer must:
//
//   visibility   the host keeps the message invisible while the function runs, renewing it;
//                a dead instance's job reappears for another instance
//   retries      a function that throws is delivered again after host.json's visibilityTimeout
//   poison       after host.json's maxDequeueCount failed deliveries the host moves the message
//                to <queue>-poison; the runner records the image as failed on that last one
//   timeout      functionTimeout (host.json) bounds one build
//   shutdown     the invocation's cancellation token fires; the build stops and throws, so
//                the job is delivered again
//
// While the storage cannot be reached, the function waits for it before it builds, probing with
// backoff (StorageHealth.WaitUntilReachableAsync, one log line per change of state); the host
// keeps the message invisible meanwhile, so the delivery is not spent on a build that cannot
// write. A build that throws on an outage mid-way is delivered again by the host as any other.
//
// A build that fails for good (Nix failed, or a message that is no build job) is not retried:
// the function completes the message and writes a PoisonRecord with the reason to the poison
// queue through its queue output binding. The queue name is the app setting NIXERY_QUEUE_NAME
// (%…% binding expression) and the account the connection "NixeryStorage": a connection
// string locally, NixeryStorage__queueServiceUri + __credential + __clientId on Azure.
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Nixery.Builder.Worker;
using Nixery.Core.Queue;
using Nixery.Core.Storage;

namespace Nixery.Worker;

public sealed class BuildFunction(BuildJobRunner runner, QueueSettings queue, StorageHealth health, ILogger<BuildFunction> logger)
{
    public const string Connection = "NixeryStorage";

    [Function("build")]
    public async Task<BuildOutput> Run(
        [QueueTrigger("%NIXERY_QUEUE_NAME%", Connection = Connection)] string message,
        int dequeueCount,
        FunctionContext context)
    {
        var (job, reason) = BuildMessages.Parse(message);
        if (job is null)
        {
            logger.LogWarning("message {InvocationId} is not a build job, moved to the poison queue: {Reason}", context.InvocationId, reason);
            return new BuildOutput(BuildMessages.Poison(message, reason, dequeueCount));
        }

        await health.WaitUntilReachableAsync(context.CancellationToken);
        var result = await runner.RunAsync(job, dequeueCount, queue.MaxDequeueCount, context.CancellationToken);
        return new BuildOutput(result.Settlement == JobSettlement.Poison ? BuildMessages.Poison(message, result.Reason ?? "failed", dequeueCount) : null);
    }
}

/// <summary>The function's outputs: a record for the poison queue, or null for none.</summary>
public sealed record BuildOutput(
    [property: QueueOutput("%NIXERY_QUEUE_NAME%-poison", Connection = BuildFunction.Connection)] string? Poison);
