// The build ledger's state machine (src/Core/Builds/BuildLedger.cs) on every backend: the
// filesystem and Azure Blob on Azurite run the same tests. Time is a FakeTimeProvider, so
// "older than the TTL" is a step of the clock; a "process" is a ledger made at some time.
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Nixery.Core.Builds;
using Nixery.Core.Options;
using Nixery.Core.Queue;
using Nixery.Core.Storage;
using Nixery.Core.Tests.Storage;

namespace Nixery.Core.Tests.Builds;

public abstract class BuildLedgerTests(TestBackend backends) : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static readonly TimeSpan FailureTtl = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan BuildStale = TimeSpan.FromMinutes(15);

    private static readonly StatusOptions Options = new() { FailureTtlSeconds = (int)FailureTtl.TotalSeconds, BuildStaleSeconds = (int)BuildStale.TotalSeconds };

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

    private IStorageBackend? _backend;

    private IStorageBackend Backend => _backend ?? throw new InvalidOperationException("backend not created yet");

    public async Task InitializeAsync() => _backend = await backends.CreateAsync();

    public async Task DisposeAsync() => await backends.DisposeAsync();

    /// <summary>The ledger of a process whose jobs outlive it (an Azure queue) unless given its queue.</summary>
    private BuildLedger Ledger(IBuildQueue? queue = null) => new(Backend, Options, _clock, queue);

    [Fact]
    public async Task AWorkerThatNamesTheImageHasItInItsBuildingAndDoneRecords()
    {
        var worker = Ledger();
        var t0 = _clock.GetUtcNow();

        await worker.StartAsync("k", "j", "git/shell", Ct);
        Assert.Equal(new BuildStatus(BuildState.Building, t0, Image: "git/shell", Job: "j", Heartbeat: t0), await worker.GetAsync("k", Ct));
        await worker.ProgressAsync("k", "j", new LayerProgress(1, 2, t0), "git/shell", Ct);
        Assert.Equal(
            new BuildStatus(BuildState.Building, t0, Image: "git/shell", LayersReady: 1, LayersTotal: 2, PackingSince: t0, Job: "j", Heartbeat: t0),
            await worker.GetAsync("k", Ct));
        await worker.SucceedAsync("k", "j", "git/shell", Ct);
        Assert.Equal(new BuildStatus(BuildState.Done, t0, Image: "git/shell", Job: "j"), await worker.GetAsync("k", Ct));
    }

    [Fact]
    public async Task ABuildGoesThroughClaimStartProgressRetryFailStaleClaimStartSucceed()
    {
        var http = Ledger();
        var worker = Ledger();
        var t0 = _clock.GetUtcNow();
        Assert.Null(await http.GetAsync("k", Ct));

        // A pull misses: queued, once.
        Assert.True(await http.ClaimAsync("k", "j", Ct));
        Assert.False(await http.ClaimAsync("k", "j", Ct));
        Assert.Equal(new BuildStatus(BuildState.Queued, t0, Job: "j"), await http.GetAsync("k", Ct));

        // A worker takes the job, packs, and an attempt throws: still building, with the reason.
        _clock.Advance(TimeSpan.FromSeconds(1));
        await worker.StartAsync("k", "j", Ct);
        Assert.Equal(new BuildStatus(BuildState.Building, t0.AddSeconds(1), Job: "j", Heartbeat: t0.AddSeconds(1)), await http.GetAsync("k", Ct));
        _clock.Advance(TimeSpan.FromSeconds(1));
        await worker.ProgressAsync("k", "j", new LayerProgress(3, 10, t0.AddSeconds(1)), Ct);
        Assert.Equal(
            new BuildStatus(BuildState.Building, t0.AddSeconds(2), LayersReady: 3, LayersTotal: 10, PackingSince: t0.AddSeconds(1), Job: "j", Heartbeat: t0.AddSeconds(2)),
            await http.GetAsync("k", Ct));
        await worker.RetryAsync("k", "j", "attempt 1 failed: IOException: disk full", Ct);
        Assert.Equal(new BuildStatus(BuildState.Building, t0.AddSeconds(2), "attempt 1 failed: IOException: disk full", Job: "j"), await http.GetAsync("k", Ct));

        // The next delivery fails for good: remembered for the TTL, so pulls claim nothing.
        _clock.Advance(TimeSpan.FromSeconds(1));
        await worker.StartAsync("k", "j", Ct);
        await worker.FailAsync("k", "j", new BuildFailure("gti/shell", "packages not found: gti", ["gti"]), Ct);
        var failed = new BuildStatus(BuildState.Failed, t0.AddSeconds(3), "packages not found: gti", ["gti"], null, "gti/shell", Job: "j");
        Assert.Equal(failed, await http.GetAsync("k", Ct), BuildStatusComparer.Instance);
        Assert.False(http.IsStale(failed));
        Assert.False(await http.ClaimAsync("k", "j", Ct));
        _clock.Advance(FailureTtl);
        Assert.False(http.IsStale(failed));
        Assert.False(await http.ClaimAsync("k", "j", Ct));

        // Past the TTL the failure is stale: the next pull takes it over and enqueues again.
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(http.IsStale(failed));
        Assert.True(await http.ClaimAsync("k", "j", Ct));
        var requeued = t0.AddSeconds(4) + FailureTtl;
        Assert.Equal(new BuildStatus(BuildState.Queued, requeued, Job: "j"), await http.GetAsync("k", Ct));

        // This time it builds; done is written after the image record, and a caller that
        // finds done without an image record may claim again (the record was lost).
        await worker.StartAsync("k", "j", Ct);
        await worker.SucceedAsync("k", "j", Ct);
        var done = new BuildStatus(BuildState.Done, requeued, Job: "j");
        Assert.Equal(done, await http.GetAsync("k", Ct));
        Assert.True(http.IsStale(done));
    }

    [Fact]
    public async Task OfTenRacingClaimsOfANewBuildExactlyOneWins()
    {
        var ledgers = Enumerable.Range(0, 10).Select(_ => Ledger()).ToList();

        var wins = await RaceAsync(ledgers, "k");

        Assert.Equal(1, wins.Count(won => won));
        Assert.Equal(new BuildStatus(BuildState.Queued, _clock.GetUtcNow(), Job: "j"), await Ledger().GetAsync("k", Ct));
    }

    [Fact]
    public async Task AStaleBuildIsTakenOverByExactlyOneOfTenRacingClaims()
    {
        // An attempt threw and its worker died before the queue's next delivery: a building
        // record without a heartbeat grows old.
        var dead = Ledger();
        Assert.True(await dead.ClaimAsync("k", "j", Ct));
        await dead.RetryAsync("k", "j", "attempt 1 failed: IOException: disk full", Ct);
        _clock.Advance(BuildStale);
        Assert.False(await Ledger().ClaimAsync("k", "j", Ct));
        _clock.Advance(TimeSpan.FromSeconds(1));

        // The new and the stale record have the same JSON length (both whole seconds), so the
        // takeover cannot rely on the object's size changing.
        var wins = await RaceAsync([.. Enumerable.Range(0, 10).Select(_ => Ledger())], "k");

        Assert.Equal(1, wins.Count(won => won));
        Assert.Equal(new BuildStatus(BuildState.Queued, _clock.GetUtcNow(), Job: "j"), await Ledger().GetAsync("k", Ct));
    }

    [Fact]
    public async Task ABuildWhoseHeartbeatIsOlderThanThreeBeatsIsStaleAndExactlyOneOfTenRacingClaimsEnqueuesItAgain()
    {
        var worker = Ledger();
        Assert.True(await Ledger().ClaimAsync("k", "dead-job", Ct));
        await worker.StartAsync("k", "dead-job", Ct);
        _clock.Advance(BuildLedger.HeartbeatInterval);
        await worker.ProgressAsync("k", "dead-job", null, Ct);
        var lastBeat = _clock.GetUtcNow();

        // The worker dies: three beats later the status still stands, a moment after it does not.
        _clock.Advance(BuildLedger.HeartbeatStaleAfter);
        Assert.Equal(TimeSpan.FromSeconds(15), BuildLedger.HeartbeatStaleAfter);
        Assert.False(Ledger().IsStale((await Ledger().GetAsync("k", Ct))!));
        Assert.False(await Ledger().ClaimAsync("k", "too-early", Ct));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(Ledger().IsStale((await Ledger().GetAsync("k", Ct))!));

        using var start = new ManualResetEventSlim();
        var claims = Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await Ledger().ClaimAsync("k", $"job-{i}", Ct) ? $"job-{i}" : null;
        })).ToList();
        start.Set();
        var winners = (await Task.WhenAll(claims)).OfType<string>().ToList();

        var winner = Assert.Single(winners);
        Assert.Equal(new BuildStatus(BuildState.Queued, lastBeat + BuildLedger.HeartbeatStaleAfter + TimeSpan.FromSeconds(1), Job: winner), await Ledger().GetAsync("k", Ct));
        Assert.False(await Ledger().ClaimAsync("k", "late", Ct));
    }

    [Fact]
    public async Task AQueuedBuildHasNoHeartbeatAndStandsUntilBuildStaleAsDoesARetriedOne()
    {
        // A job in a backlog is not dead: minutes without a heartbeat do not make it stale.
        Assert.True(await Ledger().ClaimAsync("queued", "j", Ct));
        Assert.True(await Ledger().ClaimAsync("retried", "j", Ct));
        await Ledger().RetryAsync("retried", "j", "attempt 1 failed: TimeoutException: storage", Ct);
        _clock.Advance(BuildStale);

        Assert.False(await Ledger().ClaimAsync("queued", "j2", Ct));
        Assert.False(await Ledger().ClaimAsync("retried", "j2", Ct));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await Ledger().ClaimAsync("queued", "j2", Ct));
        Assert.True(await Ledger().ClaimAsync("retried", "j2", Ct));
    }

    [Fact]
    public async Task WithAQueueThatDiesWithTheProcessAnEarlierProcesssBuildIsStale()
    {
        var before = Ledger(new InProcessQueue());
        Assert.True(await before.ClaimAsync("k", "j", Ct));
        _clock.Advance(TimeSpan.FromSeconds(1));

        // A new process: its queue is empty, so the job the record stands for is gone.
        var after = Ledger(new InProcessQueue());
        Assert.True(after.IsStale((await after.GetAsync("k", Ct))!));
        Assert.True(await after.ClaimAsync("k", "j", Ct));
        Assert.False(await after.ClaimAsync("k", "j", Ct));

        // With a queue that outlives processes (Azure) the same record stands.
        var durable = Ledger();
        Assert.False(durable.IsStale((await durable.GetAsync("k", Ct))!));
    }

    [Fact]
    public async Task AnUnreadableStatusRecordIsTakenOverByAClaim()
    {
        await Backend.WriteAsync(StorageLayout.Status("k"), new MemoryStream(Encoding.UTF8.GetBytes("{not json")), "application/json", Ct);

        Assert.True(await Ledger().ClaimAsync("k", "j", Ct));
        Assert.Equal(new BuildStatus(BuildState.Queued, _clock.GetUtcNow(), Job: "j"), await Ledger().GetAsync("k", Ct));
    }

    [Fact]
    public async Task AFailureKeepsItsImageAndARecordWrittenBeforeImageExistedStillReads()
    {
        await Ledger().FailAsync("new", new BuildFailure("git/shell", "broke", null, ["line 1", "line 2"]), Ct);
        await Backend.WriteAsync(StorageLayout.Status("old"), new MemoryStream(Encoding.UTF8.GetBytes(
            "{\"state\":\"Failed\",\"updated\":\"2026-01-02T03:04:05+00:00\",\"reason\":\"broke\"}")), "application/json", Ct);

        Assert.Equal(
            new BuildStatus(BuildState.Failed, _clock.GetUtcNow(), "broke", null, ["line 1", "line 2"], "git/shell"),
            await Ledger().GetAsync("new", Ct),
            BuildStatusComparer.Instance);
        Assert.Equal(new BuildStatus(BuildState.Failed, _clock.GetUtcNow(), "broke"), await Ledger().GetAsync("old", Ct));
    }

    [Fact]
    public async Task ListNamesTheImageKeyOfEveryStatusRecordOnly()
    {
        var ledger = Ledger();
        await ledger.ClaimAsync("b", "j", Ct);
        await ledger.SucceedAsync("a", "j", Ct);
        await new RegistryStore(Backend).PutLayerAsync("c", new LayerRecord("sha256:00", "sha256:00", 1), Ct);
        await Backend.WriteAsync("status/stray.txt", new MemoryStream([1]), null, Ct);

        var entries = new List<StatusEntry>();
        await foreach (var entry in ledger.ListAsync(Ct))
        {
            entries.Add(entry);
        }

        Assert.Equal(["a", "b"], entries.Select(e => e.ImageKey));
        Assert.All(entries, e => Assert.NotEqual(default, e.Written));
    }

    /// <summary>Claims <paramref name="key"/> from every ledger at once, released together.</summary>
    private static async Task<bool[]> RaceAsync(IReadOnlyList<BuildLedger> ledgers, string key)
    {
        using var start = new ManualResetEventSlim();
        var claims = ledgers.Select(ledger => Task.Run(async () =>
        {
            start.Wait();
            return await ledger.ClaimAsync(key, "j", Ct);
        })).ToList();
        start.Set();
        return await Task.WhenAll(claims);
    }

    /// <summary>Statuses with lists compare by their items (records compare lists by reference).</summary>
    private sealed class BuildStatusComparer : IEqualityComparer<BuildStatus?>
    {
        public static readonly BuildStatusComparer Instance = new();

        public bool Equals(BuildStatus? x, BuildStatus? y) =>
            x is null || y is null
                ? x is null && y is null
                : x with { Missing = null, LogTail = null } == y with { Missing = null, LogTail = null }
                    && (x.Missing ?? []).SequenceEqual(y.Missing ?? [])
                    && (x.LogTail ?? []).SequenceEqual(y.LogTail ?? []);

        public int GetHashCode(BuildStatus? obj) => obj?.State.GetHashCode() ?? 0;
    }
}

public sealed class BuildLedgerOnFileSystemTests() : BuildLedgerTests(new FileSystemTestBackend());

public sealed class BuildLedgerOnAzuriteTests(AzureBlobFixture azurite) : BuildLedgerTests(new AzuriteTestBackend(azurite)), IClassFixture<AzureBlobFixture>;
