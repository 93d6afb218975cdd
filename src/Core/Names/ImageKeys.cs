// The image key: the one name under which an image's manifest is cached. It hashes
// everything that decides the image's bytes — the builder's format version and layer format,
// the package source's resolved revision, the architecture and the sorted package list — and
// nothing else: not the tag text, not the order of the name's components. The layer cache's
// keys carry the layer format too, so a change of it never mixes old and new layers.
using Nixery.Core.Manifests;
using Nixery.Core.Sources;

namespace Nixery.Core.Names;

public static class ImageKeys
{
    /// <summary>Bump when the builder's output changes for the same inputs (layout, config, packing,
    /// the image record's shape). 2: the record lists a Docker and an OCI manifest (Variants).
    /// 3: packages are hashed as named (meta-packages unexpanded), beside the resolved revision.
    /// 4: layers are deflated by libdeflate in 1 MiB chunks (LayerFormat).
    /// 5: a root in the symlink layer (/tmp, /etc/passwd …: ImageRoot), HOME and User, config
    /// created and history, OCI annotations, an SBOM attached through the referrers API.</summary>
    public const int FormatVersion = 5;

    /// <summary>How layer bytes are made: the tar format, the deflate library with its pinned
    /// version, level and chunking (src/Builder/Packing/LibDeflate.cs says why). Any change to
    /// the packing that changes a layer's bytes changes this text.</summary>
    public const string LayerFormat = "gnu-tar/libdeflate-1.14/level-6/chunks-1MiB";

    public static string For(ImageRequest image, PackageSource source) =>
        Digest.Sha256Hex(string.Join('\n',
            $"format={FormatVersion}",
            $"layers={LayerFormat}",
            $"source={source.Kind}:{source.Revision}",
            $"system={image.Arch.NixSystem}",
            $"packages={string.Join(',', image.Packages)}"));

    /// <summary>The layer cache key of a layer whose contents hash to <paramref name="contentsKey"/>
    /// (the grouper's key of its store paths, or of the symlink layer's roots).</summary>
    public static string LayerKey(string contentsKey) =>
        Digest.Sha256Hex($"layers={LayerFormat}\n{contentsKey}");
}
