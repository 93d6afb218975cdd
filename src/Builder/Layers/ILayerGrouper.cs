// The seam between "which store paths belong together" and the rest of the build, so a
// different grouping strategy can be tried (and benchmarked for cache hits) without
// touching the packer or the worker.
using Nixery.Builder.Nix;

namespace Nixery.Builder.Layers;

public interface ILayerGrouper
{
    /// <summary>Stable name for logs and configuration, e.g. "nixery".</summary>
    string Name { get; }

    /// <summary>
    /// Splits every path of <paramref name="graph"/> into at most <paramref name="budget"/>
    /// layers. Each path lands in exactly one layer; the result does not depend on the
    /// order of the input lists.
    /// </summary>
    /// <param name="topLevel">The paths the user asked for (the image's direct contents).</param>
    IReadOnlyList<LayerGroup> Group(RuntimeGraph graph, IReadOnlyList<string> topLevel, Popularity popularity, int budget);
}
