// Wakes HTTP requests that wait for a build in this process the moment the worker settles
// it, instead of at their next poll of storage. Across processes (Azure) the waiters fall
// back to polling; this is only the fast path.
using System.Collections.Concurrent;

namespace Nixery.Core.Queue;

public sealed class BuildEvents
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiting = new(StringComparer.Ordinal);

    /// <summary>A task that completes when <see cref="Settled"/> is called for the key.</summary>
    public Task WhenSettled(string imageKey) =>
        _waiting.GetOrAdd(imageKey, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Settled(string imageKey)
    {
        if (_waiting.TryRemove(imageKey, out var signal))
        {
            signal.TrySetResult();
        }
    }
}
