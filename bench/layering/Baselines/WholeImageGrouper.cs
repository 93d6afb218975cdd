// Baselines at the two ends: the whole image in one layer (what a plain `docker build` of
// one RUN step gives), and every store path in its own layer, which no client allows beyond
// ~125 layers but which is the least any client could download: the unbounded ideal.
using Nixery.Builder.Layers;
using Nixery.Builder.Nix;

namespace Nixery.Bench.Layering.Baselines;

public sealed class WholeImageGrouper : ILayerGrouper
{
    public string Name => "one-per-image";

    public IReadOnlyList<LayerGroup> Group(RuntimeGraph graph, IReadOnlyList<string> topLevel, Popularity popularity, int budget) =>
        [new LayerGroup([.. graph.Paths.Select(p => p.Path).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)], 0)];
}

/// <summary>Ignores the budget on purpose: the ideal every other row is measured against.</summary>
public sealed class PathPerLayerGrouper : ILayerGrouper
{
    public string Name => "one-per-path";

    public IReadOnlyList<LayerGroup> Group(RuntimeGraph graph, IReadOnlyList<string> topLevel, Popularity popularity, int budget) =>
        [.. graph.Paths.Select(p => p.Path).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(p => new LayerGroup([p], 0))];
}
