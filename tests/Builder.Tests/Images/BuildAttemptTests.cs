// The heartbeat of a build attempt (src/Builder/Images/BuildAttempt.cs) on a FakeTimeProvider
// whose timers follow it: a beat happens when the test moves the clock by the interval, and
// disposing the attempt waits for a beat in flight, so the test reads the status after it
// without waiting for time. Storage is a real folder.
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Nixery.Builder.Images;
using Nixery.Core.Builds;
using Nixery.Core.Manifests;
using Nixery.Core.Names;
using Nixery.Core.Options;
using Nixery.Core.Queue;
using Nixery.Core.Sources;
using Nixery.Core.Storage;
using Nixery.TestSupport;

namespace Nixery.Builder.Tests.Images;

public sealed class BuildAttemptTests : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly TempDir _folder = new("nixery-build-attempt");

    private readonly FakeTimeProvider _clock = new(T0);

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task AnAttemptBeatsEveryFiveSecondsWithItsProgressUntilDisposedAndItsStatusThenStaysStill()
    {
        var ledger = new BuildLedger(new FileSystemStorage(_folder.Path), new StatusOptions(), _clock);
        var request = ImageRequest.FromName("git");
        var job = new BuildJob(BuildJob.CurrentVersion, "job-1", "image-key", request, new PackageSource("path", "/set", "rev"));
        var attempt = new BuildAttempt(ledger, job, _clock, NullLogger.Instance);

        await attempt.StartAsync(Ct);
        Assert.Equal(new BuildStatus(BuildState.Building, T0, Image: "git", Job: "job-1", Heartbeat: T0), await ledger.GetAsync("image-key", Ct));
        Assert.Equal(("image-key", "job-1", T0), (attempt.LeaseOwner.Build, attempt.LeaseOwner.Job, attempt.LeaseOwner.Attempt));

        // Less than a beat: nothing written (no timer fired, so nothing is in flight either).
        _clock.Advance(TimeSpan.FromSeconds(2));
        await attempt.PackingAsync(3, Ct);
        var packing = new BuildStatus(BuildState.Building, T0.AddSeconds(2), Image: "git", LayersReady: 0, LayersTotal: 3, PackingSince: T0.AddSeconds(2), Job: "job-1", Heartbeat: T0.AddSeconds(2), LayersBytes: 0);
        Assert.Equal(packing, await ledger.GetAsync("image-key", Ct));
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(packing, await ledger.GetAsync("image-key", Ct));

        // The beat at 5 s rewrites the status with the progress and a new heartbeat.
        _clock.Advance(BuildLedger.HeartbeatInterval - TimeSpan.FromSeconds(4));
        await attempt.DisposeAsync();
        Assert.Equal(packing with { Updated = T0.AddSeconds(5), Heartbeat = T0.AddSeconds(5) }, await ledger.GetAsync("image-key", Ct));

        // Disposed: no more beats, so three beats later the ledger calls the attempt dead.
        _clock.Advance(BuildLedger.HeartbeatStaleAfter + TimeSpan.FromSeconds(1));
        var last = await ledger.GetAsync("image-key", Ct);
        Assert.Equal(T0.AddSeconds(5), last!.Heartbeat);
        Assert.True(ledger.IsStale(last));
    }

    [Fact]
    public async Task TheLastLayerReadyWritesTheCountAndTheLayersCompressedBytes()
    {
        var ledger = new BuildLedger(new FileSystemStorage(_folder.Path), new StatusOptions(), _clock);
        var job = new BuildJob(BuildJob.CurrentVersion, "job-1", "image-key", ImageRequest.FromName("git"), new PackageSource("path", "/set", "rev"));
        await using var attempt = new BuildAttempt(ledger, job, _clock, NullLogger.Instance);
        await attempt.StartAsync(Ct);
        await attempt.PackingAsync(2, Ct);

        var a = Digest.Sha256("a"u8);
        var b = Digest.Sha256("b"u8);
        await attempt.LayerReadyAsync(new BuiltLayer(a, a, 100), Ct);
        await attempt.LayerReadyAsync(new BuiltLayer(b, b, 250), Ct);

        var status = await ledger.GetAsync("image-key", Ct);
        Assert.Equal((2, 2, 350L), (status!.LayersReady, status.LayersTotal, status.LayersBytes));
    }
}
