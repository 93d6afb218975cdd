// Splits /v2/<name>/(manifests|blobs)/<reference>. Names contain slashes (the package
// list), so the route is a catch-all and the last "/manifests/" or "/blobs/" decides.
// Validation follows the spec's grammar: a bad name is NAME_INVALID, a bad tag
// TAG_INVALID, a malformed digest DIGEST_INVALID — all 400, before any lookup.
using Nixery.Core.Errors;
using Nixery.Core.Manifests;
using Nixery.Core.Names;

namespace Nixery.Functions.Registry;

public enum ResourceKind
{
    Manifest,
    Blob,
}

public sealed record RegistryPath(ResourceKind Kind, string Name, string Reference)
{
    public static RegistryPath Parse(string path)
    {
        // The marker that stands last wins: /v2/foo/manifests/blobs/<digest> is a blob of the
        // repository "foo/manifests".
        var (at, marker, kind) = new[] { ("/manifests/", ResourceKind.Manifest), ("/blobs/", ResourceKind.Blob) }
            .Select(m => (At: path.LastIndexOf(m.Item1, StringComparison.Ordinal), Marker: m.Item1, Kind: m.Item2))
            .MaxBy(m => m.At);
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

        throw new RegistryException(ErrorCode.NotFound, $"no registry endpoint at /v2/{Shorten(path)}");
    }

    /// <summary>The reference as a digest, or null if it is a tag; throws on a malformed one.</summary>
    public Digest? DigestReference()
    {
        if (Kind == ResourceKind.Blob || Reference.Contains(':', StringComparison.Ordinal))
        {
            return Digest.TryParse(Reference, out var digest)
                ? digest
                : throw new RegistryException(ErrorCode.DigestInvalid, $"invalid digest '{Shorten(Reference)}': expected sha256:<64 lower-case hex digits>");
        }

        return ReferenceGrammar.IsValidTag(Reference)
            ? null
            : throw new RegistryException(ErrorCode.TagInvalid, $"invalid tag '{Shorten(Reference)}': up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'");
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
