// Builds one image from a BuildJob: the worker's whole job, in the order that keeps
// readers safe (ARCHITECTURE.md, "The path of one pull"):
//
//   0. The package source is fetched at the job's revision (SourceCheckout); meta-packages
//      are expanded from that set's nixery.json.
//   1. Nix resolves and realises the packages and reports the runtime graph.
//   2. The store paths are grouped into at most budget − 1 layers (one is the symlink layer).
//   3. The layer cache (LayerCache) gives every layer, the symlink layer included: reused
//      when its record names a blob that exists, else packed once across all workers under
//      a lease, straight into staging/, moved to blobs/, and only then recorded. Layers are
//      packed side by side, the largest first, on one PackingPool that also bounds the cores
//      and memory their compression takes (Packing/PackingPool.cs); a layer's bytes do not
//      depend on it, and the manifest lists the layers in their fixed order.
//   4. The symlink layer carries the image's root (ImageRoot). The config and the manifests
//      (Docker schema 2 and OCI) follow, as blobs; then the SBOM (Sbom), an artifact manifest
//      for each image manifest with it as subject, their referrers indexes, and the image's
//      name in the catalog.
//   5. The image index entry is written last; then the status says done (BuildJobRunner,
//      through the build ledger).
// Meanwhile the status record tells waiting clients that the attempt is alive and how many
// layers are ready (BuildAttempt, which also owns the attempt's layer leases).
// A package set that builds several systems (nixery.json "systems") gives an image whose name
// does not choose an architecture an OCI index: steps 1–4 run per system this worker can
// build, the index goes in as a blob after their manifests, and the record lists it beside
// the first system's Docker and OCI manifests.
//
// A failure before step 5 leaves only content-addressed blobs that nothing names yet.
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Nixery.Builder.Layers;
using Nixery.Builder.Nix;
using Nixery.Builder.Packing;
using Nixery.Builder.PopularityData;
using Nixery.Builder.Sources;
using Nixery.Core.Builds;
using Nixery.Core.Manifests;
using Nixery.Core.Names;
using Nixery.Core.Queue;
using Nixery.Core.Sources;
using Nixery.Core.Storage;
using Nixery.Core.Telemetry;

namespace Nixery.Builder.Images;

/// <param name="PackConcurrency">NIXERY_PACK_CONCURRENCY: layers packed, and chunks compressed,
/// at once; 0 for the processor count.</param>
/// <param name="MaxImageBytes">NIXERY_MAX_IMAGE_BYTES: the largest closure (sum of NAR sizes) an
/// image may hold; 0 for no limit.</param>
public sealed record ImageBuilderOptions(int LayerBudget, TimeSpan LayerClaimStaleAfter, int PackConcurrency = 0, long MaxImageBytes = 0);

/// <summary>How a build ended, for the status record.</summary>
public abstract record BuildOutcome;

public sealed record ImageBuilt(ImageRecord Image) : BuildOutcome;

public sealed record ImageFailed(string Reason, IReadOnlyList<string>? Missing, IReadOnlyList<string>? LogTail) : BuildOutcome;

/// <summary>How one system's part of a build ended: built or failed, nothing else.</summary>
internal abstract record PlatformBuild;

/// <summary>One system's image: its two manifests (as blobs) and the store paths it holds.</summary>
internal sealed record PlatformBuilt(ManifestVariant Docker, ManifestVariant Oci, IReadOnlyList<string> Paths) : PlatformBuild;

internal sealed record PlatformFailed(ImageFailed Failure) : PlatformBuild;

public sealed class ImageBuilder(
    RegistryStore store,
    LayerCache layerCache,
    BuildLedger ledger,
    INixClient nix,
    ILayerGrouper grouper,
    ImageBuilderOptions options,
    TimeProvider time,
    ILogger<ImageBuilder> logger,
    PopularitySource popularity,
    SourceCheckout sources,
    NixPlatforms platforms,
    PackageIndexPublisher? indexes = null)
{
    /// <summary>Builds the job as an attempt with no heartbeat (tools and tests; the worker's
    /// runner starts the attempt and passes it).</summary>
    public async Task<BuildOutcome> BuildAsync(BuildJob job, CancellationToken ct)
    {
        await using var attempt = new BuildAttempt(ledger, job, time, logger);
        return await BuildAsync(job, attempt, ct);
    }

    /// <summary>Builds the job; <paramref name="attempt"/> records its progress and owns its layer leases.</summary>
    public async Task<BuildOutcome> BuildAsync(BuildJob job, BuildAttempt attempt, CancellationToken ct)
    {
        string packageSetPath;
        try
        {
            using var checkout = RegistryTelemetry.StartPhase("source checkout", "checkout");
            packageSetPath = await sources.CheckOutAsync(job.Source, ct);
        }
        catch (SourceUnavailableException e)
        {
            return new ImageFailed($"package source could not be fetched: {e.Message}", null, null);
        }

        var packageSet = PackageSetInfo.Load(packageSetPath);
        // Step 0 also publishes the set's attribute index (once per revision), beside the
        // build; it is waited for after the image, so it never delays one (PackageIndexPublisher).
        var index = indexes?.PublishAsync(job.Source, packageSetPath, packageSet, ct) ?? Task.CompletedTask;
        try
        {
            return await BuildFromSetAsync(job, attempt, packageSet, packageSetPath, ct);
        }
        finally
        {
            await index;
        }
    }

    /// <summary>Steps 1–5 for a checked-out package set.</summary>
    private async Task<BuildOutcome> BuildFromSetAsync(BuildJob job, BuildAttempt attempt, PackageSetInfo packageSet, string packageSetPath, CancellationToken ct)
    {
        var image = job.Image;
        var packages = new MetaPackages(packageSet.Shell, packageSet.AlwaysInclude).Expand(image.Packages);
        var buildable = await platforms.GetAsync();
        if (image.ArchitectureNamed || packageSet.Systems.Count == 1)
        {
            if (!packageSet.Systems.Contains(image.Arch.NixSystem))
            {
                return new ImageFailed(
                    $"package set '{packageSet.Name}' builds {string.Join(", ", packageSet.Systems)} only; {image.Arch.ImageArch} ({image.Arch.NixSystem}) images cannot be built from it", null, null);
            }

            if (!buildable.Contains(image.Arch.NixSystem))
            {
                return new ImageFailed(
                    $"this registry's workers build {string.Join(", ", buildable)}; {image.Arch.ImageArch} ({image.Arch.NixSystem}) images cannot be built here", null, null);
            }

            return (await BuildPlatformAsync(job, attempt, image.Arch, packages, packageSetPath, ct)) switch
            {
                PlatformFailed failed => failed.Failure,
                // Docker first: the default, served when the Accept header names neither (ManifestHandler).
                PlatformBuilt built => await RecordAsync(job, new ImageRecord(built.Docker.Digest, built.Docker.MediaType, built.Docker.Size, packages, [built.Docker, built.Oci]), built.Paths, ct),
                var other => throw new UnreachableException($"a platform build ended as {other.GetType().Name}"),
            };
        }

        // Several systems and the name chose none: an OCI index over every one this worker can
        // build (degraded to those; the rest are named in the log and fail when asked for by name).
        var systems = packageSet.Systems
            .Where(s => buildable.Contains(s) && Architecture.FromNixSystem(s) is not null)
            .OrderBy(s => s == buildable[0] ? 0 : 1).ThenBy(s => s, StringComparer.Ordinal)
            .ToList();
        foreach (var skipped in packageSet.Systems.Except(systems))
        {
            logger.LogWarning("image {Image} {JobId}: leaving {System} out of the image index; this worker builds {Buildable}", image.Name, job.JobId, skipped, string.Join(", ", buildable));
        }

        if (systems.Count == 0)
        {
            return new ImageFailed($"package set '{packageSet.Name}' builds {string.Join(", ", packageSet.Systems)}; this registry's workers build {string.Join(", ", buildable)}", null, null);
        }

        var builtPlatforms = new List<(Architecture Arch, PlatformBuilt Built)>();
        foreach (var system in systems)
        {
            var arch = Architecture.FromNixSystem(system)!;
            switch (await BuildPlatformAsync(job, attempt, arch, packages, packageSetPath, ct))
            {
                case PlatformFailed failed:
                    return failed.Failure;
                case PlatformBuilt platform:
                    builtPlatforms.Add((arch, platform));
                    break;
                case var other:
                    throw new UnreachableException($"a platform build ended as {other.GetType().Name}");
            }
        }

        var index = ImageConfigWriter.Index([.. builtPlatforms.Select(p => (p.Arch, p.Built.Oci))]);
        var indexDigest = await store.PutBlobAsync(index, MediaTypes.OciIndex, ct);
        var primary = builtPlatforms[0].Built;
        var record = new ImageRecord(primary.Docker.Digest, primary.Docker.MediaType, primary.Docker.Size, packages, [
            primary.Docker,
            primary.Oci,
            new ManifestVariant(MediaTypes.OciIndex, indexDigest.ToString(), index.Length),
        ]);
        return await RecordAsync(job, record, builtPlatforms.SelectMany(p => p.Built.Paths), ct);
    }

    private async Task<ImageBuilt> RecordAsync(BuildJob job, ImageRecord record, IEnumerable<string> paths, CancellationToken ct)
    {
        await store.PutCatalogEntryAsync(job.Image.Name, ct);
        await store.PutImageAsync(job.ImageKey, record, ct);
        logger.LogInformation("built image {Image} {JobId} as {Digest} with {Variants} manifests", job.Image.Name, job.JobId, record.Digest, record.StoredVariants().Count);
        await popularity.RecordImageAsync(paths.Distinct(StringComparer.Ordinal), ct);
        return new ImageBuilt(record);
    }

    /// <summary>Steps 1–4 for one system: the layers, the config and both manifests as blobs.</summary>
    private async Task<PlatformBuild> BuildPlatformAsync(BuildJob job, BuildAttempt attempt, Architecture arch, IReadOnlyList<string> packages, string packageSetPath, CancellationToken ct)
    {
        logger.LogInformation("preparing image {Image} {JobId} for {System} with {Packages}", job.Image.Name, job.JobId, arch.NixSystem, string.Join(' ', packages));
        PrepareResult prepared;
        try
        {
            prepared = await nix.PrepareAsync(new PrepareRequest(packages, arch.NixSystem, packageSetPath), ct);
        }
        catch (NixException e)
        {
            return new PlatformFailed(new ImageFailed(e.Message, null, e.LogTail));
        }

        return prepared switch
        {
            PackagesNotFound notFound => new PlatformFailed(new ImageFailed($"packages not found: {string.Join(", ", notFound.Missing)}", notFound.Missing, null)),
            Prepared ready when TooLarge(ready) is { } failure => new PlatformFailed(failure),
            Prepared ready => await AssembleAsync(job, attempt, arch, packages, ready, ct),
            _ => throw new UnreachableException($"Nix's preparation ended as {prepared.GetType().Name}"),
        };
    }

    /// <summary>NIXERY_MAX_IMAGE_BYTES, checked once Nix has realised the closure and before
    /// anything is packed: the closure's NAR sizes are what the layers hold uncompressed, so the
    /// sum is the image's unpacked size (what a client's disk pays), known before any packing.</summary>
    private ImageFailed? TooLarge(Prepared ready)
    {
        var bytes = ready.Graph.Paths.Sum(p => p.NarSize);
        if (options.MaxImageBytes <= 0 || bytes <= options.MaxImageBytes)
        {
            return null;
        }

        return new ImageFailed(
            $"the image's closure is {bytes} bytes ({ready.Graph.Paths.Count} store paths), more than this registry's limit of {options.MaxImageBytes} bytes (NIXERY_MAX_IMAGE_BYTES); ask for fewer or smaller packages, or raise NIXERY_MAX_IMAGE_BYTES",
            null,
            null);
    }

    /// <summary>Steps 2–4 for one system whose packages Nix has realised.</summary>
    private async Task<PlatformBuilt> AssembleAsync(BuildJob job, BuildAttempt attempt, Architecture arch, IReadOnlyList<string> packages, Prepared ready, CancellationToken ct)
    {
        var image = job.Image;
        var grouping = RegistryTelemetry.StartPhase("group layers", "group");
        var selected = await popularity.GetAsync(ct);
        var groups = grouper.Group(ready.Graph, ready.TopLevel, selected.Data, options.LayerBudget - 1);
        grouping.Activity?.SetTag("nixery.layers", groups.Count + 1);
        grouping.Dispose();
        logger.LogInformation("grouped {Paths} store paths of {Image} into {Layers} layers with {Grouper} and {Popularity} popularity", ready.Graph.Paths.Count, image.Name, groups.Count, grouper.Name, selected.Origin);

        // Most popular first; the key breaks ties so the order never depends on the grouper's.
        var ordered = groups.OrderByDescending(g => g.MergeRating).ThenBy(g => g.Key, StringComparer.Ordinal).ToList();
        var sizes = ready.Graph.Paths.ToDictionary(p => p.Path, p => p.NarSize, StringComparer.Ordinal);
        var layerSources = new List<LayerSource>(ordered.Count + 1);
        foreach (var group in ordered)
        {
            layerSources.Add(new LayerSource(ImageKeys.LayerKey(group.Key), group.Contents.Sum(p => sizes.GetValueOrDefault(p)),
                (s, pool, token) => LayerPacker.PackStorePathsAsync(group.Contents, s, token, pool)));
        }

        // The symlink layer with the image's root (ImageRoot); its links are checked, and the
        // ones that would dangle in the image logged, not refused (a package's own broken link
        // should not cost the user the image).
        var root = ImageRoot.For(image.NonRoot);
        var forest = SymlinkForest.Merge(ready.LinkRoots, root.Entries);
        var dangling = forest.DanglingLinks(ready.Graph.Paths.Select(p => p.Path).ToHashSet(StringComparer.Ordinal));
        if (dangling.Count > 0)
        {
            logger.LogWarning("image {Image} {JobId}: {Count} links of the symlink layer do not resolve in the image: {Links}", image.Name, job.JobId, dangling.Count, string.Join(", ", dangling.Take(20).Select(d => $"/{d.Link} -> {d.Target}")));
        }

        var symlinkKey = ImageKeys.LayerKey(Digest.Sha256Hex($"symlink-layer\n{root.Key}\n" + string.Join('\n', ready.LinkRoots)));
        layerSources.Add(new LayerSource(symlinkKey, 0, (s, pool, token) => LayerPacker.PackSymlinkLayerAsync(forest, s, token, pool)));

        await attempt.PackingAsync(layerSources.Count, ct);
        IReadOnlyList<BuiltLayer> layers;
        using (RegistryTelemetry.StartPhase("pack layers", "pack"))
        {
            layers = await layerCache.GetAsync(layerSources, image.Name, attempt.LeaseOwner, attempt.LayerReadyAsync, ct);
        }

        using var writing = RegistryTelemetry.StartPhase("write manifests", "manifests");

        var hasShell = ready.TopLevel.Any(p => StorePaths.Name(p).StartsWith("bash", StringComparison.Ordinal));
        List<HistoryEntry> history = [.. ordered.Select(g => ImageConfigWriter.StorePathsHistory(g.Contents)), ImageConfigWriter.SymlinkHistory(root, ready.TopLevel)];
        var config = ImageConfigWriter.Config(arch, layers, hasShell, root, history);
        var configDigest = await store.PutBlobAsync(config, MediaTypes.DockerConfig, ct);
        var manifest = ImageConfigWriter.Manifest(configDigest, config.Length, layers);
        var manifestDigest = await store.PutBlobAsync(manifest, MediaTypes.DockerManifest, ct);
        var ociManifest = ImageConfigWriter.OciManifest(configDigest, config.Length, layers, ImageConfigWriter.Annotations(job.Source, packages, arch.NixSystem));
        var ociManifestDigest = await store.PutBlobAsync(ociManifest, MediaTypes.OciManifest, ct);
        var docker = new ManifestVariant(MediaTypes.DockerManifest, manifestDigest.ToString(), manifest.Length);
        var oci = new ManifestVariant(MediaTypes.OciManifest, ociManifestDigest.ToString(), ociManifest.Length);
        await AttachSbomAsync(Sbom.Write(image.Name, arch.NixSystem, ready.Graph, ready.TopLevel, ready.Licenses), [docker, oci], ct);
        logger.LogInformation("assembled {System} image {Image} {JobId} with {Layers} layers", arch.NixSystem, image.Name, job.JobId, layers.Count);
        return new PlatformBuilt(docker, oci, [.. ready.Graph.Paths.Select(p => p.Path)]);
    }

    /// <summary>Stores the SBOM and, for each manifest, an artifact manifest whose subject it is
    /// and the referrers index that lists that artifact (before the image entry is written).</summary>
    private async Task AttachSbomAsync(byte[] sbom, IReadOnlyList<ManifestVariant> subjects, CancellationToken ct)
    {
        var sbomDigest = await store.PutBlobAsync(sbom, MediaTypes.CycloneDxJson, ct);
        await store.PutBlobAsync(ImageConfigWriter.EmptyJson, MediaTypes.OciEmpty, ct);
        var layer = new Descriptor(MediaTypes.CycloneDxJson, sbom.Length, sbomDigest.ToString());
        foreach (var subject in subjects)
        {
            var artifact = ImageConfigWriter.SbomArtifact(layer, new Descriptor(subject.MediaType, subject.Size, subject.Digest));
            var artifactDigest = await store.PutBlobAsync(artifact, MediaTypes.OciManifest, ct);
            var index = ReferrersIndex.Of([new ReferrerDescriptor(MediaTypes.OciManifest, artifact.Length, artifactDigest.ToString(), MediaTypes.CycloneDxJson)]);
            var subjectDigest = Digest.TryParse(subject.Digest, out var d) ? d.Value : throw new InvalidDataException($"manifest digest {subject.Digest} does not parse");
            await store.PutReferrersAsync(subjectDigest, index, ct);
        }
    }
}
