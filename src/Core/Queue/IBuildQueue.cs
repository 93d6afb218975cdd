// The build queue between the HTTP side and the workers: in-process for the embedded
// default, an Azure Storage Queue in the cloud. At-least-once: a job whose lease is neither
// completed nor abandoned comes back, so a build must be safe to run twice (it is: every
// write is content-addressed or conditional).
namespace Nixery.Core.Queue;

public interface IBuildQueue
{
    string Name { get; }

    /// <summary>Whether queued jobs outlive this process. If not, a "queued" or "building"
    /// status written before this process started names a job that is gone.</summary>
    bool IsDurable { get; }

    Task EnqueueAsync(BuildJob job, CancellationToken cancellationToken);

    /// <summary>Waits for the next job; the lease keeps it from other workers until settled.</summary>
    Task<IBuildLease> ReceiveAsync(CancellationToken cancellationToken);
}

public interface IBuildLease
{
    BuildJob Job { get; }

    /// <summary>How many times this job has been handed out, this time included.</summary>
    int DequeueCount { get; }

    /// <summary>The build finished (built or failed for good): remove the job.</summary>
    Task CompleteAsync(CancellationToken cancellationToken);

    /// <summary>Give the job back now, e.g. on shutdown, so another worker takes it.</summary>
    Task AbandonAsync(CancellationToken cancellationToken);

    /// <summary>The job failed for good — Nix failed the build, or it was handed out too often
    /// without settling (workers died on it): move it to the poison queue with the reason, for
    /// operators to inspect, so that it is not retried.</summary>
    Task DeadLetterAsync(string reason, CancellationToken cancellationToken);
}
