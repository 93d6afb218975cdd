// One home for "can the storage be reached" (issue 16; STYLE.md §14), shared by every process:
//
//   classify   IsOutage: is this exception a storage fault that is not ours (the network, a
//              per-call timeout, the service's 5xx, a disk error) rather than a bug? Those are
//              answered 503 UNAVAILABLE with Retry-After, never 500 (clients treat a 500 as
//              fatal: skopeo stops; ARCHITECTURE.md "clients and what they do").
//   probe      CheckAsync: one cheap round trip (IStorageBackend.ProbeAsync, which also makes
//              the container the Azure backend creates lazily), bounded by ProbeTimeout, shared
//              by concurrent callers and reused for ProbeReuse, so a burst of requests during an
//              outage costs one probe a second, not one SDK retry loop each.
//   remember   the last known state, changed by probes and by faults callers report; each
//              change is logged once ("storage … is unreachable: <reason>" / "… is reachable
//              again"), never a stack trace per try.
//   wait       WaitUntilReachableAsync: a worker's loop before it takes a job, with exponential
//              backoff from FirstBackoff to MaxBackoff.
//
// Network timing uses the real clock, not the injected TimeProvider: a test's FakeTimeProvider
// drives build waits and leases, and must not freeze a network probe.
using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Nixery.Core.Errors;

namespace Nixery.Core.Storage;

public sealed class StorageHealth(IStorageBackend storage, ILogger<StorageHealth> logger)
{
    /// <summary>The Retry-After of a 503 for storage: about one probe round, and what
    /// NIXERY_RETRY_AFTER defaults to, so clients come back at the pace of a build wait.</summary>
    public const int RetryAfterSeconds = 5;

    /// <summary>A probe is one small request; a healthy account answers in milliseconds, so one
    /// that takes longer than this is treated as down (it would not serve a pull in time either).</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    /// <summary>A probe's answer is reused this long by every caller.</summary>
    public static readonly TimeSpan ProbeReuse = TimeSpan.FromSeconds(1);

    /// <summary>A waiting worker's first pause between probes, doubled after each failed one ...</summary>
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);

    /// <summary>... up to this.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private const int Unknown = 0, Reachable = 1, Unreachable = 2;

    private readonly Lock _gate = new();
    private Task<bool>? _probe;
    private long _probedAt;
    private int _state = Unknown;

    /// <summary>The backend's short name ("azure-blob", "filesystem").</summary>
    public string Backend => storage.Name;

    /// <summary>Where the storage is (IStorageBackend.Location), as logs and the 503 name it.</summary>
    public string Location => storage.Location;

    /// <summary>True once a fault or a failed probe said so, until a probe succeeds.</summary>
    public bool IsKnownUnreachable => Volatile.Read(ref _state) == Unreachable;

    /// <summary>Whether the storage answers now: one probe, shared and reused (ProbeReuse).</summary>
    public Task<bool> CheckAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_probe is null || (_probe.IsCompleted && Stopwatch.GetElapsedTime(_probedAt) >= ProbeReuse))
            {
                _probedAt = Stopwatch.GetTimestamp();
                _probe = ProbeAsync();
            }

            return _probe.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Returns once a probe succeeds (at once when the storage is known reachable),
    /// probing with exponential backoff meanwhile; the state changes are logged by the probes.</summary>
    public async Task WaitUntilReachableAsync(CancellationToken cancellationToken)
    {
        var backoff = FirstBackoff;
        while (Volatile.Read(ref _state) != Reachable && !await CheckAsync(cancellationToken))
        {
            await Task.Delay(backoff, cancellationToken);
            backoff = backoff * 2 < MaxBackoff ? backoff * 2 : MaxBackoff;
        }
    }

    /// <summary>Whether <paramref name="fault"/> is a storage outage or timeout rather than a bug:
    /// anywhere in its chain a network error, a timeout, a cancellation that
    /// <paramref name="caller"/> (the client's own token) did not ask for, or what the backend
    /// itself calls an outage. False whenever the caller cancelled: nobody is waiting.</summary>
    public bool IsOutage(Exception fault, CancellationToken caller) =>
        !caller.IsCancellationRequested && Chain(fault, depth: 0).Any(e =>
            e is HttpRequestException or SocketException or TimeoutException or OperationCanceledException || storage.IsOutage(e));

    /// <summary>Records that a call failed with an outage (logged once per change of state).</summary>
    public void ReportFault(Exception fault)
    {
        lock (_gate)
        {
            // A fault is newer news than a finished probe: the next check probes again.
            if (_probe is { IsCompleted: true })
            {
                _probe = null;
            }
        }

        if (Interlocked.Exchange(ref _state, Unreachable) != Unreachable)
        {
            logger.LogWarning("storage {Backend} at {Storage} is unreachable: {Reason}", storage.Name, storage.Location, Reason(fault));
        }
    }

    /// <summary>The answer to a registry request while the storage cannot be reached.</summary>
    public RegistryException Unavailable() => new(
        ErrorCode.Unavailable,
        $"the registry's storage ({storage.Name} {storage.Location}) cannot be reached; retry in {RetryAfterSeconds} seconds",
        new Dictionary<string, string> { ["Retry-After"] = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    private async Task<bool> ProbeAsync()
    {
        using var timeout = new CancellationTokenSource(ProbeTimeout);
        try
        {
            // WaitAsync bounds a probe even if a backend did not honour its token.
            await storage.ProbeAsync(timeout.Token).WaitAsync(ProbeTimeout + TimeSpan.FromSeconds(1));
            if (Interlocked.Exchange(ref _state, Reachable) == Unreachable)
            {
                logger.LogInformation("storage {Backend} at {Storage} is reachable again", storage.Name, storage.Location);
            }

            return true;
        }
        catch (Exception e)
        {
            // Any failure of the probe makes the storage unusable (a wrong key too), so it is
            // reported whatever its kind; the reason line says which.
            ReportFault(e);
            return false;
        }
    }

    /// <summary>The innermost message, on one line: what an operator reads in the log.</summary>
    private static string Reason(Exception fault)
    {
        var inner = fault;
        while (inner.InnerException is { } next)
        {
            inner = next;
        }

        var message = inner.Message.ReplaceLineEndings(" ");
        return $"{inner.GetType().Name}: {(message.Length <= 300 ? message : message[..299] + "…")}";
    }

    private static IEnumerable<Exception> Chain(Exception fault, int depth)
    {
        yield return fault;
        if (depth >= 8)
        {
            yield break;
        }

        var inners = fault is AggregateException aggregate ? aggregate.InnerExceptions : (IEnumerable<Exception>)(fault.InnerException is { } one ? [one] : []);
        foreach (var inner in inners)
        {
            foreach (var e in Chain(inner, depth + 1))
            {
                yield return e;
            }
        }
    }
}
