// How long a registry request may take before it answers (issue 16: "a request never outlives
// its budget because of stuck storage calls"). Measured before it existed: with storage down,
// a warm pull answered 500 after 21–26 s and a manifest request that should answer within
// NIXERY_BUILD_WAIT (20 s) after 31 s, because each storage call ran the SDK's retries to the
// end, one after another.
//
//   budget      Default (10 s) for every request; a manifest request may wait for a build, so
//               its budget is NIXERY_BUILD_WAIT + NIXERY_RETRY_AFTER when that is longer
//               (RegistryApi sets it for manifests; BuildCoordinator answers 429 when its own
//               wait ends).
//               10 s holds one storage call at its worst (StorageCallPolicy: ≈ 10 s with its
//               retries) and is well within what clients wait (containerd's and skopeo's
//               response-header timeouts are 30 s and more).
//   how         RegistryResult makes the request's token (HttpContext.RequestAborted, which every
//               handler already passes to storage) also fire when the budget is spent; the
//               cancelled call surfaces as an outage and is answered 503 UNAVAILABLE with
//               Retry-After. Once the response has started (a blob streaming from the
//               filesystem may take minutes), the budget is disarmed: it bounds the wait for
//               an answer, not a download.
// The budget runs on the real clock: it bounds network calls, which a test's FakeTimeProvider
// does not drive.
namespace Nixery.Functions.Registry;

public sealed class RequestBudget : IDisposable
{
    /// <summary>The budget of a request that does not wait for a build.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _source;
    private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();
    private readonly Lock _gate = new();
    private bool _done;

    public RequestBudget(TimeSpan budget, CancellationToken aborted)
    {
        _source = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        Budget = budget;
        _source.CancelAfter(budget);
    }

    /// <summary>The request's token: the client's, and the budget's end.</summary>
    public CancellationToken Token => _source.Token;

    public TimeSpan Budget { get; private set; }

    /// <summary>Gives the request <paramref name="budget"/> in all, counted from its start.</summary>
    public void SetBudget(TimeSpan budget)
    {
        lock (_gate)
        {
            if (_done)
            {
                return;
            }

            Budget = budget;
            var left = budget - System.Diagnostics.Stopwatch.GetElapsedTime(_started);
            _source.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }
    }

    /// <summary>The response has started: the budget no longer applies.</summary>
    public void Disarm()
    {
        lock (_gate)
        {
            if (!_done)
            {
                _source.CancelAfter(Timeout.InfiniteTimeSpan);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _done = true;
            _source.Dispose();
        }
    }
}
