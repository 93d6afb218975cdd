// What the grouper hands to the packer: the store paths that travel together in one image
// layer. The Key names the set, not the bytes, so the layer cache (layers/<key>.json) can
// answer "was this exact set packed before?" before anything is read from the store.
using Nixery.Core.Manifests;

namespace Nixery.Builder.Layers;

/// <param name="Contents">Store paths in the layer, sorted ordinally, no duplicates.</param>
/// <param name="MergeRating">Popularity × size; lower ratings are merged away first.</param>
public sealed record LayerGroup(IReadOnlyList<string> Contents, ulong MergeRating)
{
    /// <summary>
    /// Lower-case hex SHA-256 of the contents joined with "\n". Derived from Contents on each
    /// read, so a <c>with</c> copy never carries a stale key.
    /// </summary>
    public string Key => KeyOf(Contents);

    public static string KeyOf(IReadOnlyList<string> contents) =>
        Digest.Sha256Hex(string.Join('\n', contents));
}

public static class LayerBudget
{
    /// <summary>
    /// 125 is the most layers a client will stack (the overlay/aufs mount limit Docker
    /// enforces); Nixery keeps 94 for its own layers and leaves the rest for images built
    /// FROM ours, plus one for the symlink layer.
    /// </summary>
    public const int Default = 94;
}
