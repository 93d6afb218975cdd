// Publishes the attribute index of a package source at a revision (Core/Sources/PackageIndex.cs,
// indexes/<source-key>.json), so that the HTTP side can answer names with unknown packages 404
// without queueing a build (issue 13: 300 made-up names queued one real build 36 s behind them).
//
// The worker is the only part that holds the package set, so it writes the index the first time
// it builds from a revision: ImageBuilder starts PublishAsync right after the checkout, beside the
// image's own Nix steps, and waits for it only after the image is recorded, so the index never
// delays an image. The index is immutable per revision, hence "written once": a revision this
// process has seen, or whose index storage already holds, costs no Nix run. Two workers that race
// write the same content (plain overwrite of identical JSON).
//
// Evaluation (nix/package-index.nix): every top-level attribute name, with version and description
// where cheap; 0.05 s for the offline Debian set (93 attributes, measured here). A large set whose
// details do not evaluate within NIX_TIMEOUT is indexed by names only (attrNames forces nothing).
// Any failure is logged and the build goes on: without an index the HTTP side refuses nothing
// on its account, which is how the registry behaved before there were indexes.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Nixery.Builder.Nix;
using Nixery.Core.Names;
using Nixery.Core.Sources;
using Nixery.Core.Storage;

namespace Nixery.Builder.Sources;

public sealed class PackageIndexPublisher(RegistryStore store, NixOptions nix, ILogger<PackageIndexPublisher> logger)
{
    private const string IndexFile = "package-index.nix";

    /// <summary>Storage paths of indexes known to exist, so a revision is looked up once per process.</summary>
    private readonly ConcurrentDictionary<string, bool> _published = new(StringComparer.Ordinal);

    /// <summary>Writes the index of <paramref name="source"/> (checked out at <paramref name="packageSetPath"/>)
    /// unless it exists. Never throws but for <paramref name="ct"/>'s cancellation: a failure is logged.</summary>
    public async Task PublishAsync(PackageSource source, string packageSetPath, PackageSetInfo info, CancellationToken ct)
    {
        var path = StorageLayout.PackageIndex(source);
        if (_published.ContainsKey(path))
        {
            return;
        }

        try
        {
            if (await store.GetPackageIndexAsync(source, ct) is not null)
            {
                _published[path] = true;
                return;
            }

            var clock = Stopwatch.StartNew();
            var packages = await EvaluateAsync(packageSetPath, info.System, details: true, ct)
                ?? await EvaluateAsync(packageSetPath, info.System, details: false, ct);
            if (packages is null)
            {
                logger.LogWarning("no package index for {Kind} {Revision}: the package set's attributes did not evaluate; names are not checked before builds", source.Kind, source.Revision);
                return;
            }

            var index = new PackageIndex(source, packages, MetaPackageNames(info));
            await store.PutPackageIndexAsync(index, ct);
            _published[path] = true;
            logger.LogInformation("published package index {IndexPath} of {Kind} {Revision}: {Packages} packages in {ElapsedMs} ms", path, source.Kind, source.Revision, packages.Count, clock.ElapsedMilliseconds);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning(e, "publishing the package index of {Kind} {Revision} failed; names are not checked before builds", source.Kind, source.Revision);
        }
    }

    /// <summary>The names an image may use that are no attribute: "shell" (from nixery.json's
    /// shell list), "nonroot" and "arm64" (ImageRequest's meta-packages).</summary>
    public static IReadOnlyList<string> MetaPackageNames(PackageSetInfo info) =>
        [.. new[] { ImageRequest.ShellMeta, ImageRequest.NonRootMeta, ImageRequest.Arm64Meta }
            .Where(m => m != ImageRequest.ShellMeta || info.Shell.Count > 0)
            .Order(StringComparer.Ordinal)];

    /// <summary>The set's attributes sorted by name (ordinal), or null when Nix fails or times out.</summary>
    private async Task<IReadOnlyList<IndexedPackage>?> EvaluateAsync(string packageSetPath, string system, bool details, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(nix.Timeout);
        var tail = new NixLogTail();
        try
        {
            var run = await NixProcess.RunAsync(
                "nix-instantiate",
                [
                    "--eval", "--strict", "--json", Path.Combine(Path.GetFullPath(nix.NixExpressionsPath), IndexFile),
                    "--argstr", "srcPath", Path.GetFullPath(packageSetPath),
                    "--argstr", "system", system,
                    "--argstr", "details", details ? "1" : "0",
                ],
                tail, logger, deadline.Token);
            if (run.ExitCode != 0)
            {
                logger.LogWarning("evaluating the package index of {PackageSet} (details: {Details}) failed: {Log}", packageSetPath, details, string.Join(" | ", tail.Snapshot().TakeLast(3)));
                return null;
            }

            var packages = JsonSerializer.Deserialize(run.Stdout, NixJsonContext.Default.ListIndexedPackage) ?? [];
            return [.. packages.Where(p => !string.IsNullOrEmpty(p.Name)).OrderBy(p => p.Name, StringComparer.Ordinal)];
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning("evaluating the package index of {PackageSet} (details: {Details}) took longer than NIX_TIMEOUT ({Timeout} s)", packageSetPath, details, nix.Timeout.TotalSeconds);
            return null;
        }
        catch (Exception e) when (e is JsonException or NixException)
        {
            logger.LogWarning("evaluating the package index of {PackageSet} (details: {Details}) failed: {Reason}", packageSetPath, details, e.Message);
            return null;
        }
    }
}
