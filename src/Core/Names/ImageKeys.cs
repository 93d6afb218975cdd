// The image key: the one name under which an image's manifest is cached. It hashes
// everything that decides the image's bytes — the builder's format version, the package
// source's resolved revision, the architecture and the sorted package list — and nothing
// else: not the tag text, not the order of the name's components.
using Nixery.Core.Queue;
using Nixery.Core.Storage;

namespace Nixery.Core.Names;

public static class ImageKeys
{
    /// <summary>Bump when the builder's output changes for the same inputs (layout, config, packing,
    /// the image record's shape). 2: the record lists a Docker and an OCI manifest (Variants).
    /// 3: packages are hashed as named (meta-packages unexpanded), beside the resolved revision.</summary>
    public const int FormatVersion = 3;

    public static string For(ImageRequest image, PackageSource source) =>
        RegistryStore.HashKey(string.Join('\n',
            $"format={FormatVersion}",
            $"source={source.Kind}:{source.Revision}",
            $"system={image.Arch.NixSystem}",
            $"packages={string.Join(',', image.Packages)}"));
}
