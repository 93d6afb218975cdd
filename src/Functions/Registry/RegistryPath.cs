// Splits the path after /v2/ into the resource it names:
//
//   <name>/manifests/<reference>    Manifest
//   <name>/blobs/<digest>           Blob
//   <name>/referrers/<digest>       Referrers (distribution-spec 1.1)
//   <name>/tags/list                Tags
//   _catalog                        Catalog
//
// Names contain slashes (the package list), so the route is a catch-all and the marker that
// stands last decides. Validation follows the spec's grammar: a bad name is NAME_INVALID, a
// bad tag TAG_INVALID, a malformed digest DIGEST_INVALID — all 400, before any lookup; a path
// that is none of these is NAME_UNKNOWN (404), the spec's code for a name that is no
// repository here (the reference registry answers such paths 404 too).
using Nixery.Core.Errors;
using Nixery.Core.Manifests;
using Nixery.Core.Names;

namespace Nixery.Functions.Registry;

public enum ResourceKind
{
    Manifest,
    Blob,
    Referrers,
    Tags,
    Catalog,
}

public sealed record RegistryPath(ResourceKind Kind, string Name, string Reference)
{
    public const string CatalogPath = "_catalog";

    private const string TagsSuffix = "/tags/list";

    private static readonly (string Marker, ResourceKind Kind)[] Markers =
        [("/manifests/", ResourceKind.Manifest), ("/blobs/", ResourceKind.Blob), ("/referrers/", ResourceKind.Referrers)];

    public static RegistryPath Parse(string path)
    {
        if (path is CatalogPath or CatalogPath + "/")
        {
            return new RegistryPath(ResourceKind.Catalog, "", "");
        }

        // The marker that stands last wins: /v2/foo/manifests/blobs/<digest> is a blob of the
        // repository "foo/manifests".
        var (at, marker, kind) = Markers
            .Select(m => (At: path.LastIndexOf(m.Marker, StringComparison.Ordinal), m.Marker, m.Kind))
            .MaxBy(m => m.At);
        if (path.EndsWith(TagsSuffix, StringComparison.Ordinal) && path.Length - TagsSuffix.Length > at)
        {
            (at, marker, kind) = (path.Length - TagsSuffix.Length, TagsSuffix, ResourceKind.Tags);
        }

        if (at > 0)
        {
            var name = path[..at];
            if (!ReferenceGrammar.IsValidName(name))
            {
                throw new RegistryException(ErrorCode.NameInvalid,
                    $"invalid repository name '{Shorten(name)}': each path component must be lower-case letters and digits, optionally separated by '.', '_' or '-' (at most {ReferenceGrammar.MaxNameLength} characters)");
            }

            return new RegistryPath(kind, name, path[(at + marker.Length)..]);
        }

        throw new RegistryException(ErrorCode.NameUnknown,
            $"no registry endpoint at /v2/{Shorten(path)}: this registry serves /v2/<name>/manifests/<tag or digest>, /v2/<name>/blobs/<digest>, /v2/<name>/referrers/<digest>, /v2/<name>/tags/list and /v2/_catalog");
    }

    /// <summary>The reference as a digest, or null if it is a tag; throws on a malformed one.</summary>
    public Digest? DigestReference()
    {
        if (Kind is ResourceKind.Blob or ResourceKind.Referrers || Reference.Contains(':', StringComparison.Ordinal))
        {
            return Digest.TryParse(Reference, out var digest)
                ? digest
                : throw new RegistryException(ErrorCode.DigestInvalid, $"invalid digest '{Shorten(Reference)}': expected sha256:<64 lower-case hex digits>");
        }

        return ReferenceGrammar.IsValidTag(Reference)
            ? null
            : throw new RegistryException(ErrorCode.TagInvalid, $"invalid tag '{Shorten(Reference)}': up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'");
    }

    /// <summary>A text from the request, cut short enough to quote in a message.</summary>
    public static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
