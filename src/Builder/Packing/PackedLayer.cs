// The three numbers a manifest and an image config need for one layer blob.
using Nixery.Core.Manifests;

namespace Nixery.Builder.Packing;

/// <param name="Digest">SHA-256 of the gzip bytes: the blob's name in the registry and in the manifest.</param>
/// <param name="DiffId">SHA-256 of the uncompressed tar: the config's rootfs.diff_ids entry.</param>
/// <param name="Size">Number of gzip bytes written (the manifest's layer size).</param>
public sealed record PackedLayer(Digest Digest, Digest DiffId, long Size);
