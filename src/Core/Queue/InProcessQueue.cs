// The embedded default's queue: a channel in this process, read by the in-process worker
// loop (Builder's BuildWorker). Abandoned jobs go back on the channel; nothing survives a
// restart, which is fine because the HTTP side re-enqueues on the next pull of an image
// whose status is stale.
using System.Threading.Channels;

namespace Nixery.Core.Queue;

public sealed class InProcessQueue : IBuildQueue
{
    private readonly Channel<(BuildJob Job, int Count)> _channel = Channel.CreateUnbounded<(BuildJob, int)>();

    public string Name => "in-process";

    public bool IsDurable => false;

    public Task EnqueueAsync(BuildJob job, CancellationToken cancellationToken) =>
        _channel.Writer.WriteAsync((job, 0), cancellationToken).AsTask();

    /// <summary>Waits for the next job; the lease keeps it until settled.</summary>
    public async Task<Lease> ReceiveAsync(CancellationToken cancellationToken)
    {
        var (job, count) = await _channel.Reader.ReadAsync(cancellationToken);
        return new Lease(this, job, count + 1);
    }

    public sealed class Lease
    {
        private readonly InProcessQueue _queue;

        internal Lease(InProcessQueue queue, BuildJob job, int dequeueCount)
        {
            _queue = queue;
            Job = job;
            DequeueCount = dequeueCount;
        }

        public BuildJob Job { get; }

        /// <summary>How many times this job has been handed out, this time included.</summary>
        public int DequeueCount { get; }

        /// <summary>Gives the job back now (a worker shutting down, a build that threw), so it
        /// runs again; its dequeue count goes up.</summary>
        public Task AbandonAsync() => _queue._channel.Writer.WriteAsync((Job, DequeueCount), CancellationToken.None).AsTask();
    }
}
