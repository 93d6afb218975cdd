// `Nixery.Embedded.dll collect-garbage [--dry-run]`: one garbage collection of the configured
// storage (the same settings as the registry: NIXERY_RETENTION, NIXERY_GC_GRACE, the storage's),
// printing what it freed, or with --dry-run what it would free, deleting nothing. The registry
// collects by itself on a timer; the command is for looking before turning retention on, and
// for collecting a storage no registry is serving: run without --dry-run it must not share the
// storage with a running embedded default, whose in-process builds it cannot see.
using Nixery.Core.Collection;

namespace Nixery.Embedded;

public static class CollectGarbageCommand
{
    public static async Task<int> RunAsync(string[] args, IReadOnlyDictionary<string, string?>? overrides = null, TextWriter? output = null)
    {
        output ??= Console.Out;
        if (args is not ([] or ["--dry-run"]))
        {
            await Console.Error.WriteLineAsync("usage: collect-garbage [--dry-run]   (settings as for the registry; NIXERY_RETENTION must be set)");
            return 2;
        }

        var app = EmbeddedApp.Create([], overrides, out var error);
        if (app is null)
        {
            await Console.Error.WriteLineAsync(error);
            return 2;
        }

        await using (app)
        {
            if (!app.Services.GetRequiredService<CollectionOptions>().Enabled)
            {
                await Console.Error.WriteLineAsync("collect-garbage: NIXERY_RETENTION is 0 (off); set it to the days an image is kept after its last pull");
                return 2;
            }

            var report = await app.Services.GetRequiredService<GarbageCollector>().CollectAsync(dryRun: args is ["--dry-run"], CancellationToken.None);
            await output.WriteLineAsync(report.DryRun ? "would free (dry run, nothing deleted):" : "freed:");
            await output.WriteLineAsync($"  images          {report.Images}");
            await output.WriteLineAsync($"  blobs           {report.Blobs}");
            await output.WriteLineAsync($"  layer records   {report.LayerRecords}");
            await output.WriteLineAsync($"  referrers       {report.Referrers}");
            await output.WriteLineAsync($"  statuses        {report.Statuses}");
            await output.WriteLineAsync($"  pull records    {report.PullRecords}");
            await output.WriteLineAsync($"  catalog entries {report.CatalogEntries}");
            await output.WriteLineAsync($"  total           {report.BytesFreed} bytes");
            await output.WriteLineAsync($"kept {report.ImagesKept} images and {report.BlobsKept} blobs");
            if (report.BlobsDeferred)
            {
                await output.WriteLineAsync("unreferenced blobs were left for the next collection: builds are running");
            }

            return 0;
        }
    }
}
