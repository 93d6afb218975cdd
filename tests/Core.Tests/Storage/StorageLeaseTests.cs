// The lease primitive (src/Core/Storage/StorageLease.cs) on every backend: the filesystem
// and Azure Blob on Azurite run the same tests. Time is a FakeTimeProvider whose timers
// follow it: a renewal happens when the test advances the clock, and the test then waits
// for the lease to say it renewed (an event, not a length of time). Two holders that must
// not see each other's renewals have clocks of their own, as two machines do.
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Nixery.Core.Storage;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Storage;

public abstract class StorageLeaseTests(TestBackend backends) : IAsyncLifetime
{
    private const string Path = "layers/k.lease";

    private static readonly CancellationToken Ct = CancellationToken.None;

    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    /// <summary>How long an event may take to happen before the test fails (storage is real I/O).</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static readonly DateTimeOffset Start = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly FakeTimeProvider _clock = new(Start);

    private readonly LogLines<StorageLease> _log = new();

    private IStorageBackend? _backend;

    private IStorageBackend Backend => _backend ?? throw new InvalidOperationException("backend not created yet");

    public async Task InitializeAsync() => _backend = await backends.CreateAsync();

    public async Task DisposeAsync() => await backends.DisposeAsync();

    private StorageLeases Leases(TimeProvider? clock = null) => new(Backend, clock ?? _clock, _log);

    [Fact]
    public async Task AnAcquiredLeaseIsStoredAsItsOwnerAndExpiry()
    {
        await using var lease = await Leases().TryAcquireAsync(Path, "worker-1", Lifetime, Ct);

        Assert.NotNull(lease);
        Assert.Equal((Path, "worker-1", Start + Lifetime), (lease.Path, lease.Owner, lease.Expires));
        Assert.Equal("{\"owner\":\"worker-1\",\"expires\":\"2026-01-02T03:04:35+00:00\"}", await ReadAsync());
        Assert.False(lease.Lost.IsCancellationRequested);
    }

    [Fact]
    public async Task AHeldLeaseIsNotAcquiredByAnotherOwnerUntilItExpires()
    {
        await using var held = await Leases().TryAcquireAsync(Path, "worker-1", Lifetime, Ct);
        var otherMachine = new FakeTimeProvider(Start);

        Assert.Null(await Leases(otherMachine).TryAcquireAsync(Path, "worker-2", Lifetime, Ct));
        otherMachine.Advance(Lifetime - TimeSpan.FromSeconds(1));
        Assert.Null(await Leases(otherMachine).TryAcquireAsync(Path, "worker-2", Lifetime, Ct));
        await using var elsewhere = await Leases().TryAcquireAsync("layers/other.lease", "worker-2", Lifetime, Ct);
        Assert.NotNull(elsewhere);
    }

    [Fact]
    public async Task AnExpiredLeaseIsTakenOverByExactlyOneOfTenAndTheDeadOwnersReleaseLeavesIt()
    {
        // worker-1's clock stands still, as a stalled or dead process's does: it never renews.
        var stalled = new FakeTimeProvider(Start);
        var dead = await Leases(stalled).TryAcquireAsync(Path, "worker-1", Lifetime, Ct);
        _clock.Advance(Lifetime);

        using var start = new ManualResetEventSlim();
        var racers = Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await Leases().TryAcquireAsync(Path, $"worker-{i + 2}", Lifetime, Ct);
        })).ToList();
        start.Set();
        var leases = await Task.WhenAll(racers);

        var winner = Assert.Single(leases, l => l is not null)!;
        Assert.Equal($"{{\"owner\":\"{winner.Owner}\",\"expires\":\"2026-01-02T03:05:05+00:00\"}}", await ReadAsync());
        await dead!.DisposeAsync();
        Assert.Contains(winner.Owner, await ReadAsync(), StringComparison.Ordinal);
        await winner.DisposeAsync();
    }

    [Fact]
    public async Task RenewalEveryThirdOfTheLifetimeKeepsTheLease()
    {
        await using var lease = await Leases().TryAcquireAsync(Path, "worker-1", Lifetime, Ct);

        for (var i = 1; i <= 3; i++)
        {
            _clock.Advance(Lifetime / 3);
            Assert.Equal($"renewed lease {Path} for worker-1 until {Start + (i * Lifetime / 3) + Lifetime}", await _log.NextAsync("renewed lease"));
        }

        // The lifetime of the first write is over; without the renewals this would take it.
        Assert.Null(await Leases().TryAcquireAsync(Path, "worker-2", Lifetime, Ct));
        Assert.Equal(Start + (2 * Lifetime), lease!.Expires);
        Assert.False(lease.Lost.IsCancellationRequested);
    }

    [Fact]
    public async Task LostFiresWhenARenewalFindsTheLeaseTakenOverAndReleaseLeavesTheNewOwners()
    {
        // worker-1 stalls past its lifetime; worker-2, on its own clock, takes the lease over.
        var stalled = new FakeTimeProvider(Start);
        var lease = await Leases(stalled).TryAcquireAsync(Path, "worker-1", Lifetime, Ct);
        _clock.Advance(Lifetime);
        await using var taker = await Leases().TryAcquireAsync(Path, "worker-2", Lifetime, Ct);
        Assert.NotNull(taker);

        // worker-1 resumes: its next renewal finds the record is not its own.
        stalled.Advance(Lifetime / 3);
        await WhenCancelledAsync(lease!.Lost);
        Assert.Equal($"lost lease {Path} of worker-1: it was removed, or another owner took it over after it expired", await _log.NextAsync("lost lease"));

        await lease.DisposeAsync();
        Assert.Equal("{\"owner\":\"worker-2\",\"expires\":\"2026-01-02T03:05:05+00:00\"}", await ReadAsync());
        Assert.False(taker.Lost.IsCancellationRequested);
    }

    [Fact]
    public async Task LostFiresWhenARenewalFindsTheLeaseGone()
    {
        await using var lease = await Leases().TryAcquireAsync(Path, "worker-1", Lifetime, Ct);
        await Backend.DeleteAsync(Path, Ct);

        _clock.Advance(Lifetime / 3);

        await WhenCancelledAsync(lease!.Lost);
    }

    [Fact]
    public async Task ReleaseDeletesTheRecordSoAnotherOwnerAcquiresAtOnce()
    {
        var lease = await Leases().TryAcquireAsync(Path, "worker-1", Lifetime, Ct);

        await lease!.DisposeAsync();

        Assert.Null(await Backend.StatAsync(Path, Ct));
        await using var next = await Leases().TryAcquireAsync(Path, "worker-2", Lifetime, Ct);
        Assert.NotNull(next);
    }

    [Fact]
    public async Task ARecordThatIsNoLeaseIsTakenOver()
    {
        // What the claims of older workers held ("owner ms"), had one been left at this path.
        await Backend.WriteAsync(Path, new MemoryStream(Encoding.UTF8.GetBytes("worker-0 1767323045000")), "text/plain", Ct);

        await using var lease = await Leases().TryAcquireAsync(Path, "worker-1", Lifetime, Ct);

        Assert.NotNull(lease);
    }

    [Fact]
    public async Task ALaterAttemptOfTheSameBuildTakesOverAnEarlierOnesLeaseAtOnceButNeverTheReverse()
    {
        // On another host, so only the build and attempt decide (not the process rules).
        LeaseOwner Attempt(string id, string build, int second) =>
            new(id, build, "job-" + id, Start.AddSeconds(second), "elsewhere", 1, "boot:1");
        await using var first = await Leases().TryAcquireAsync(Path, Attempt("first", "image-key", 0), Lifetime, Ct);
        Assert.NotNull(first);

        // Another image's build waits; the same build's earlier attempt does not take it back.
        Assert.Null(await Leases().TryAcquireAsync(Path, Attempt("other-image", "other-key", 20), Lifetime, Ct));
        await using var retried = await Leases().TryAcquireAsync(Path, Attempt("retried", "image-key", 20), Lifetime, Ct);
        Assert.NotNull(retried);
        Assert.Null(await Leases().TryAcquireAsync(Path, Attempt("first-again", "image-key", 0), Lifetime, Ct));

        Assert.Equal(
            "{\"owner\":\"retried\",\"expires\":\"2026-01-02T03:04:35+00:00\",\"build\":\"image-key\",\"job\":\"job-retried\",\"attempt\":\"2026-01-02T03:04:25+00:00\",\"host\":\"elsewhere\",\"pid\":1,\"process\":\"boot:1\"}",
            await ReadAsync());
        Assert.Equal($"took over lease {Path} for retried: it is an earlier attempt of the same build", await _log.NextAsync("took over lease"));

        // The earlier attempt's next renewal finds the lease taken: it stops packing and waits.
        _clock.Advance(Lifetime / 3);
        await WhenCancelledAsync(first!.Lost);
    }

    [Fact]
    public async Task ALeaseOfAProcessGoneFromThisHostIsTakenOverAtOnceAndOneOfALiveProcessIsNot()
    {
        // A real process that held a lease and was killed (kill -9): its PID runs nothing now.
        var (pid, identity) = await KilledProcessAsync();
        await Backend.WriteAsync(Path, new MemoryStream(Encoding.UTF8.GetBytes(
            $"{{\"owner\":\"killed\",\"expires\":\"{Start + Lifetime:O}\",\"host\":\"{ProcessIdentity.Host}\",\"pid\":{pid},\"process\":\"{identity}\"}}")), "application/json", Ct);

        // The same PID on another host, or a live process here, is left alone until expiry.
        await using (var otherHost = await Leases().TryAcquireAsync("layers/other-host.lease", new LeaseOwner("other-host", Host: "elsewhere", Pid: pid, Process: identity), Lifetime, Ct))
        {
            Assert.Null(await Leases().TryAcquireAsync("layers/other-host.lease", "taker", Lifetime, Ct));
        }

        await using (var live = await Leases().TryAcquireAsync("layers/live.lease", LeaseOwner.InThisProcess("live"), Lifetime, Ct))
        {
            Assert.Null(await Leases().TryAcquireAsync("layers/live.lease", "taker", Lifetime, Ct));
        }

        // A reused PID: this very process's PID, but a process that started at another time.
        await using (var reused = await Leases().TryAcquireAsync("layers/reused.lease", new LeaseOwner("reused", Host: ProcessIdentity.Host, Pid: Environment.ProcessId, Process: identity), Lifetime, Ct))
        {
            await using var taken = await Leases().TryAcquireAsync("layers/reused.lease", "taker", Lifetime, Ct);
            Assert.NotNull(taken);
        }

        await using var taker = await Leases().TryAcquireAsync(Path, "taker", Lifetime, Ct);
        Assert.NotNull(taker);
        Assert.Equal($"took over lease {Path} for taker: its process {pid} on {ProcessIdentity.Host} is gone", await _log.NextAsync($"took over lease {Path}"));
    }

    [Fact]
    public async Task ASweepDeletesTheLeasesAnyoneMayTakeOverAndKeepsTheLiveOnes()
    {
        var (pid, identity) = await KilledProcessAsync();
        await Leases().TryAcquireAsync("layers/dead.lease", new LeaseOwner("killed", Host: ProcessIdentity.Host, Pid: pid, Process: identity), Lifetime, Ct);
        await Leases(new FakeTimeProvider(Start - Lifetime)).TryAcquireAsync("layers/expired.lease", "stalled", Lifetime, Ct);
        await using var live = await Leases().TryAcquireAsync("layers/live.lease", LeaseOwner.InThisProcess("live"), Lifetime, Ct);
        await Backend.WriteAsync("layers/k.json", new MemoryStream(Encoding.UTF8.GetBytes("{}")), "application/json", Ct);

        Assert.Equal(2, await Leases().SweepAsync(StorageLayout.LayerPrefix, Ct));

        var left = new List<string>();
        await foreach (var (path, _) in Backend.ListAsync(StorageLayout.LayerPrefix, Ct))
        {
            left.Add(path);
        }

        Assert.Equal(["layers/k.json", "layers/live.lease"], left);
    }

    /// <summary>The PID and identity of a process that ran and was killed.</summary>
    private static async Task<(int Pid, string Identity)> KilledProcessAsync()
    {
        using var process = System.Diagnostics.Process.Start("sleep", "600");
        var identity = ProcessIdentity.Of(process.Id) ?? throw new InvalidOperationException("/proc tells no process identity on this machine");
        process.Kill();
        await process.WaitForExitAsync();
        Assert.Null(ProcessIdentity.Of(process.Id));
        return (process.Id, identity);
    }

    private async Task<string?> ReadAsync()
    {
        await using var stream = await Backend.OpenReadAsync(Path, Ct);
        return stream is null ? null : await new StreamReader(stream).ReadToEndAsync(Ct);
    }

    private static Task WhenCancelledAsync(CancellationToken token)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => cancelled.TrySetResult());
        return cancelled.Task.WaitAsync(Bound, CancellationToken.None);
    }
}

public sealed class StorageLeaseOnFileSystemTests() : StorageLeaseTests(new FileSystemTestBackend());

public sealed class StorageLeaseOnAzuriteTests(AzureBlobFixture azurite) : StorageLeaseTests(new AzuriteTestBackend(azurite)), IClassFixture<AzureBlobFixture>;
