// GET and HEAD /v2/<name>/manifests/<reference>. By tag: the name is the package list and
// the tag (with the name's first component) picks the package source and its revision
// (SourceCatalog), so the image is looked up by its key and built on a miss
// (BuildCoordinator); the image has a Docker schema-2 and an OCI manifest, and the Accept
// header picks one (ManifestNegotiation).
// By digest: the manifest blob itself, whatever name it is asked under and whatever the
// Accept header says (the digest pins the bytes), as long as it is a manifest.
// The stored bytes are served as they are, with their digest and exact media type, through
// the framework's file result (StoredContent): the digest is the ETag, so a client's
// If-None-Match answers 304. No ranges: a manifest is sent whole, as distribution does.
// Asked for by digest it may be cached for good (Cache-Control); by tag it may not, since
// the tag moves with the package source's revision.
// A name of more than NIXERY_MAX_PACKAGES packages is refused before its image is looked up.
// Every manifest served (GET or HEAD: containerd resolves a tag with HEAD, then fetches by
// digest) is recorded as a pull of its image or manifest for the garbage collector
// (PullRecorder: in the background, at most once an hour, never failing the request).
using System.Text.Json;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Nixery.Core.Collection;
using Nixery.Core.Errors;
using Nixery.Core.Manifests;
using Nixery.Core.Names;
using Nixery.Core.Sources;
using Nixery.Core.Storage;
using Nixery.Functions.Builds;

namespace Nixery.Functions.Registry;

public sealed class ManifestHandler(RegistryStore store, BuildCoordinator builds, SourceCatalog sources, LimitOptions limits, PullRecorder pulls)
{
    /// <summary>Manifests are small; a larger blob asked for as a manifest is not one of ours.</summary>
    private const long MaxManifestSize = 4 * 1024 * 1024;

    public async Task HandleAsync(HttpContext context, RegistryPath path)
    {
        var ct = context.RequestAborted;
        var digest = path.DigestReference();
        var byDigest = digest is not null;
        string mediaType;
        Action recordPull;
        if (digest is null)
        {
            var (selection, resolved) = await sources.ResolveAsync(path.Name, path.Reference, ct);
            var image = ImageRequest.FromName(selection.Packages);
            RefuseTooManyPackages(image);
            var record = await builds.GetOrBuildAsync(image, resolved, ClientKey.Of(context, limits), ct);
            var variant = ManifestNegotiation.Choose(record.StoredVariants(), context.Request.Headers.Accept);
            digest = Digest.TryParse(variant.Digest, out var d) ? d : throw new InvalidDataException($"image record holds a bad digest {variant.Digest}");
            mediaType = variant.MediaType;
            var key = ImageKeys.For(image, resolved);
            recordPull = () => pulls.RecordImage(key, image.Name);
        }
        else
        {
            mediaType = await ManifestMediaTypeAsync(digest.Value, path, ct);
            var pinned = digest.Value;
            recordPull = () => pulls.RecordManifest(pinned);
        }

        var content = await store.OpenBlobAsync(digest.Value, ct)
            ?? throw new RegistryException(ErrorCode.ManifestUnknown, $"manifest {digest} of {path.Name} is not in the registry");
        recordPull();
        await StoredContent.ServeAsync(context, content, mediaType, digest.Value, ranges: false, immutable: byDigest);
    }

    /// <summary>NIXERY_MAX_PACKAGES, before any lookup: 400 NAME_INVALID, the spec's code for a
    /// repository name the registry will not take (distribution-spec, "Error Codes"); the name
    /// itself is what must change, so it is no 404.</summary>
    private void RefuseTooManyPackages(ImageRequest image)
    {
        var count = image.Packages.Count + (image.ArchitectureNamed ? 1 : 0);
        if (count > limits.MaxPackages)
        {
            throw new RegistryException(
                ErrorCode.NameInvalid,
                $"the name {RegistryPath.Shorten(image.Name)} asks for {count} packages; this registry builds images of at most {limits.MaxPackages} ({LimitOptions.MaxPackagesKey}): split the image or ask the operator to raise {LimitOptions.MaxPackagesKey}");
        }
    }

    private async Task<string> ManifestMediaTypeAsync(Digest digest, RegistryPath path, CancellationToken ct)
    {
        var unknown = new RegistryException(ErrorCode.ManifestUnknown, $"manifest {digest} of {path.Name} is not in the registry");
        var props = await store.StatBlobAsync(digest, ct);
        if (props is null || props.Size > MaxManifestSize)
        {
            throw unknown;
        }

        await using var stream = await store.OpenBlobAsync(digest, ct) ?? throw unknown;
        try
        {
            using var document = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("mediaType", out var type)
                && type.ValueKind == JsonValueKind.String
                && type.GetString() is MediaTypes.DockerManifest or MediaTypes.OciManifest or MediaTypes.OciIndex)
            {
                return type.GetString()!;
            }
        }
        catch (JsonException)
        {
            // A layer or config blob asked for as a manifest.
        }

        throw unknown;
    }
}

/// <summary>
/// Picks the stored manifest a tag request gets. The distribution spec leaves the rule to
/// the registry: "The client SHOULD include an Accept header indicating which manifest
/// content types it supports. In a successful response, the Content-Type header will
/// indicate the type of the returned manifest" (opencontainers/distribution-spec spec.md,
/// "Pulling manifests"; content-negotiation.md). Docker's registry falls back to a format
/// every client reads when the Accept header lacks the stored one (distribution
/// docs/content/spec/manifest-v2-2.md, "Backward compatibility"). So:
///   - Accept is read as RFC 9110 §12.5.1 says: comma-separated, possibly in several header
///     lines, each media range with parameters and a q-value (absent = 1, 0 = not acceptable);
///     a variant's quality is that of the most specific range that matches it
///     (type/subtype, then type/*, then */*);
///   - the variant with the highest quality above 0 wins; ties go to the OCI index of a
///     multi-system image if the client names it (it then picks its platform), else by our order, the
///     default (Docker schema 2, the most widely understood) first, then OCI;
///   - no Accept, */* only, unparsable, or none of our types: the default. Never 406 — an old
///     client that sends nothing useful still gets an image it can read.
/// </summary>
public static class ManifestNegotiation
{
    public static ManifestVariant Choose(IReadOnlyList<ManifestVariant> variants, StringValues accept)
    {
        var chosen = variants[0];
        if (StringValues.IsNullOrEmpty(accept) || !MediaTypeHeaderValue.TryParseList(accept, out var ranges) || ranges.Count == 0)
        {
            return chosen;
        }

        var best = 0.0;
        foreach (var variant in variants)
        {
            var quality = QualityOf(variant.MediaType, ranges);
            // An index the client names wins a tie: it gets every platform. Wildcards do not
            // count: `*/*` from a client that cannot read an index must not get one.
            if (quality > best || (quality == best && quality > 0 && variant.MediaType == MediaTypes.OciIndex && Names(variant.MediaType, ranges)))
            {
                chosen = variant;
                best = quality;
            }
        }

        return chosen;
    }

    private static bool Names(string mediaType, IList<MediaTypeHeaderValue> ranges) =>
        ranges.Any(r => !r.MatchesAllTypes && !r.MatchesAllSubTypes && r.MediaType.Equals(mediaType, StringComparison.OrdinalIgnoreCase));

    /// <summary>The q-value the client gives <paramref name="mediaType"/>; 0 when no range matches.</summary>
    private static double QualityOf(string mediaType, IList<MediaTypeHeaderValue> ranges)
    {
        var slash = mediaType.IndexOf('/');
        var type = mediaType[..slash];
        double? exact = null, typeWide = null, any = null;
        foreach (var range in ranges)
        {
            var q = range.Quality ?? 1.0;
            if (range.MatchesAllTypes)
            {
                any = Math.Max(any ?? 0, q);
            }
            else if (range.MatchesAllSubTypes)
            {
                if (range.Type.Equals(type, StringComparison.OrdinalIgnoreCase))
                {
                    typeWide = Math.Max(typeWide ?? 0, q);
                }
            }
            else if (range.MediaType.Equals(mediaType, StringComparison.OrdinalIgnoreCase))
            {
                exact = Math.Max(exact ?? 0, q);
            }
        }

        return exact ?? typeWide ?? any ?? 0;
    }
}
