// Where the garbage collector meets the hosts (issue 13.4): manifests served by tag and by digest
// are recorded as pulls (ManifestHandler, PullRecorder); the embedded default's timer collects
// every NIXERY_GC_INTERVAL on its clock; the `collect-garbage` command reports, and with
// --dry-run deletes nothing. The collector itself is tested in Core.Tests and end to end.
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Nixery.Core.Builds;
using Nixery.Core.Collection;
using Nixery.Core.Manifests;
using Nixery.Core.Names;
using Nixery.Core.Options;
using Nixery.Core.Storage;
using Nixery.Embedded;
using Nixery.TestSupport;

namespace Nixery.Functions.Tests;

[Collection(RegistryCollection.Name)]
public sealed class PullRecordTests(RegistryFixture fixture)
{
    [Fact]
    public async Task AManifestServedByTagIsRecordedAsAPullOfItsImageWithItsName()
    {
        // An image entry for "pullrecord/shell" at the default source's revision, as a build leaves it.
        var (selection, resolved) = await fixture.Sources.ResolveAsync("shell/pullrecord", "latest", CancellationToken.None);
        var image = ImageRequest.FromName(selection.Packages);
        var key = ImageKeys.For(image, resolved);
        var size = Encoding.UTF8.GetByteCount(RegistryFixture.ManifestJson);
        await fixture.Store.PutImageAsync(key, new ImageRecord(fixture.ManifestDigest.ToString(), MediaTypes.DockerManifest, size, ["pullrecord"]), CancellationToken.None);

        using var response = await fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v2/shell/pullrecord/manifests/latest"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await fixture.Instance.Services.GetRequiredService<PullRecorder>().FlushAsync();

        var record = await fixture.Store.GetPullAsync(StorageLayout.Pull(key), CancellationToken.None);
        Assert.NotNull(record);
        Assert.Equal("pullrecord/shell", record.Image);
    }

    [Fact]
    public async Task AManifestServedByDigestIsRecordedAsAPullOfThatManifest()
    {
        using var response = await fixture.Client.GetAsync($"/v2/anyname/manifests/{fixture.ManifestDigest}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await fixture.Instance.Services.GetRequiredService<PullRecorder>().FlushAsync();

        var record = await fixture.Store.GetPullAsync(StorageLayout.ManifestPull(fixture.ManifestDigest), CancellationToken.None);
        Assert.NotNull(record);
        Assert.Null(record.Image);
    }
}

public sealed class GarbageCollectionHostingTests : IDisposable
{
    private readonly TempDir _folder = new("nixery-gc-hosting");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task TheEmbeddedTimerCollectsOnceAnIntervalHasPassedOnItsClock()
    {
        var storage = new FileSystemStorage(_folder.Combine("storage"));
        var orphan = await new RegistryStore(storage).PutBlobAsync(Encoding.UTF8.GetBytes("left by a failed build"), MediaTypes.OctetStream, CancellationToken.None);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = new CollectionOptions { RetentionDays = 1, IntervalSeconds = 3600 };
        var log = new LogLines<GarbageCollector>();
        var collector = new GarbageCollector(storage, new RegistryStore(storage), new BuildLedger(storage, new StatusOptions(), clock), options, clock, log);
        using var timer = new GarbageCollection(collector, options, clock, NullLogger<GarbageCollection>.Instance);

        await timer.StartAsync(CancellationToken.None);
        clock.Advance(options.Interval);
        var line = await log.NextAsync("garbage collection of filesystem");
        await timer.StopAsync(CancellationToken.None);

        Assert.StartsWith("garbage collection of filesystem: images 0 (0 bytes), blobs 1 (22 bytes), ", line, StringComparison.Ordinal);
        Assert.Null(await storage.StatAsync(StorageLayout.Blob(orphan), CancellationToken.None));
    }

    [Fact]
    public async Task TheDryRunCommandReportsWhatACollectionWouldFreeAndDeletesNothing()
    {
        var path = _folder.Combine("storage");
        var orphan = await new RegistryStore(new FileSystemStorage(path)).PutBlobAsync(Encoding.UTF8.GetBytes("left by a failed build"), MediaTypes.OctetStream, CancellationToken.None);
        var file = Path.Combine(path, StorageLayout.Blob(orphan));
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddDays(-2));
        var settings = new Dictionary<string, string?>(RegistryInstance.DefaultSettings(path)) { ["NIXERY_RETENTION"] = "1" };
        using var output = new StringWriter();

        Assert.Equal(0, await CollectGarbageCommand.RunAsync(["--dry-run"], settings, output));

        Assert.True(File.Exists(file), "the dry run deleted the unreferenced blob");
        Assert.Equal(
            """
            would free (dry run, nothing deleted):
              images          0 (0 bytes)
              blobs           1 (22 bytes)
              layer records   0 (0 bytes)
              referrers       0 (0 bytes)
              statuses        0 (0 bytes)
              pull records    0 (0 bytes)
              catalog entries 0 (0 bytes)
              total           22 bytes
            kept 0 images and 0 blobs

            """.ReplaceLineEndings("\n"),
            output.ToString());
    }

    [Fact]
    public async Task TheCommandWithRetentionOffSaysWhichSettingToSetAndCollectsNothing()
    {
        var path = _folder.Combine("storage");
        using var output = new StringWriter();

        Assert.Equal(2, await CollectGarbageCommand.RunAsync(["--dry-run"], RegistryInstance.DefaultSettings(path), output));
        Assert.Equal("", output.ToString());
    }
}
