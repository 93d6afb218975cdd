// The producer side of the build queue, which the HTTP side writes to: in-process for the
// embedded default (InProcessQueue, whose worker loop runs in the same process), an Azure
// Storage Queue in the cloud (AzureStorageQueue), consumed there by the build function's
// queue trigger (src/Worker), which owns visibility, retries and the poison queue.
// At-least-once either way: a job can run twice, so a build must be safe to repeat (it is:
// every write is content-addressed or conditional).
namespace Nixery.Core.Queue;

public interface IBuildQueue
{
    string Name { get; }

    /// <summary>Whether queued jobs outlive this process. If not, a "queued" or "building"
    /// status written before this process started names a job that is gone.</summary>
    bool IsDurable { get; }

    Task EnqueueAsync(BuildJob job, CancellationToken cancellationToken);
}
