// The embedded default's queue: a channel in this process. Abandoned jobs go back on the
// channel; nothing survives a restart, which is fine because the HTTP side re-enqueues on
// the next pull of an image whose status is stale.
using System.Threading.Channels;

namespace Nixery.Core.Queue;

public sealed class InProcessQueue : IBuildQueue
{
    private readonly Channel<(BuildJob Job, int Count)> _channel = Channel.CreateUnbounded<(BuildJob, int)>();

    public string Name => "in-process";

    public bool IsDurable => false;

    public Task EnqueueAsync(BuildJob job, CancellationToken cancellationToken) =>
        _channel.Writer.WriteAsync((job, 0), cancellationToken).AsTask();

    public async Task<IBuildLease> ReceiveAsync(CancellationToken cancellationToken)
    {
        var (job, count) = await _channel.Reader.ReadAsync(cancellationToken);
        return new Lease(this, job, count + 1);
    }

    private sealed class Lease(InProcessQueue queue, BuildJob job, int count) : IBuildLease
    {
        public BuildJob Job => job;

        public int DequeueCount => count;

        public Task CompleteAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task AbandonAsync(CancellationToken cancellationToken) =>
            queue._channel.Writer.WriteAsync((job, count), CancellationToken.None).AsTask();

        /// <summary>Nothing outlives this process, so a poisoned job is simply dropped.</summary>
        public Task DeadLetterAsync(string reason, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
