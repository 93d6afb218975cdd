// The embedded default killed with kill -9 in the middle of a build and started again on the
// same storage (issue 13, "recovery after a crash within seconds"): the process as a user
// runs it (dotnet Nixery.Embedded.dll, its own port), real Nix, real skopeo with its own 429
// retries. Before the fix the next pull waited ~100 s on the dead process's layer lease
// (skopeo needed 4 retries) and a partial upload stayed in staging/.
using System.Diagnostics;
using Nixery.TestSupport;
using Xunit.Abstractions;

namespace Nixery.EndToEnd.Tests;

[Collection(PullCollection.Name)]
public sealed class CrashRecoveryTests(ITestOutputHelper output)
{
    private const string Image = "bash/python3";

    /// <summary>The registry's line for each 429 it answers (BuildCoordinator).</summary>
    private const string Answered429 = "answering 429 with Retry-After";

    [Fact]
    public async Task AfterKill9MidBuildARestartOnTheSameStorageServesThePullWithAtMostOne429AndLeavesStagingEmpty()
    {
        using var root = new TempDir("nixery-crash");
        var storage = root.Combine("storage");
        var port = EmbeddedProcess.FreePort();
        // The default wait: a pull that outlasts it meets 429 and skopeo retries.
        var settings = EmbeddedProcess.Settings(storage, port);
        var assembly = EmbeddedProcess.Assembly;
        var hostPort = $"127.0.0.1:{port}";

        // The first process starts the build; it is killed once a layer is packed.
        await using (var first = ServiceProcess.Start("embedded-1", assembly, settings))
        {
            await first.WaitForLineAsync("Now listening on", TimeSpan.FromMinutes(1));
            using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
            var doomedPull = client.GetAsync(new Uri($"http://{hostPort}/v2/{Image}/manifests/latest"));
            await first.WaitForLineAsync(@"packed layer \S+ 1/", TimeSpan.FromMinutes(5));
            first.Kill();
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => doomedPull);
            Assert.Equal(0, first.CountLines("built image"));
        }

        var leftBehind = Directory.GetFiles(Path.Combine(storage, "staging"));
        var leasesLeft = Directory.GetFiles(Path.Combine(storage, "layers"), "*.lease");
        output.WriteLine($"left by the killed process: {leftBehind.Length} staging uploads, {leasesLeft.Length} layer leases");

        // The second process, on the same storage: the pull succeeds, skopeo retrying by itself.
        await using var second = ServiceProcess.Start("embedded-2", assembly, settings);
        await second.WaitForLineAsync("Now listening on", TimeSpan.FromMinutes(1));
        var sweep = await second.WaitForLineAsync("start-up sweep removed", TimeSpan.FromMinutes(1));
        output.WriteLine(sweep);
        using var oci = new TempDir("nixery-crash-pull");
        var clock = Stopwatch.StartNew();
        (await Clients.SkopeoCopyAsync(hostPort, $"{Image}:latest", oci.Path)).EnsureSuccess($"skopeo copy {Image} after the restart");
        clock.Stop();

        var answered429 = second.CountLines(Answered429);
        output.WriteLine($"pull after the restart: {clock.Elapsed.TotalSeconds:F1} s, {answered429} answers 429, {second.CountLines("took over lease")} leases taken over, {second.CountLines("packed layer")} layers packed, {second.CountLines("reused layer")} reused");
        Assert.Equal(1, second.CountLines("built image"));
        // NIXERY_BUILD_WAIT 20 s: a cold build of this image here needs at most one 429; the
        // dead process's lease and upload cost nothing more (before: four).
        Assert.InRange(answered429, 0, 1);
        Assert.Empty(Directory.GetFiles(Path.Combine(storage, "staging")));
        Assert.Empty(Directory.GetFiles(Path.Combine(storage, "layers"), "*.lease"));
        Assert.Empty(Directory.GetFiles(Path.Combine(storage, "blobs"), "*.lock", SearchOption.AllDirectories));
        Assert.NotEmpty(Clients.OciLayerDigests(oci.Path));
    }
}
