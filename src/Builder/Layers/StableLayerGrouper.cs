// Layer grouping whose layers stay the same from image to image and across package-set
// updates, so that a client that pulled one image, or the last build of this one, downloads
// little for the next. It is the registry's default; bench/layering measures it against
// Nixery's algorithm (NixeryLayerGrouper) on the Debian package graph.
//
// Why not Nixery's: its layers are the subtrees of the image's own dominator tree, merged by
// rating until the budget is met. Both depend on the rest of the image: next to different
// neighbours the same package gets a different subtree, and the merged layer holds whatever
// rated lowest in this image, so two images rarely hold the same layer. And it groups a
// package with its private dependencies, so a change deep down re-sends them all.
//
// # Inputs
//
// - the runtime graph: every store path, its references and its own size (NarSize);
// - popularity: how many packages refer to each package (or, learned, how many images held it);
// - the layer budget. The top-level paths are checked but not otherwise used.
//
// # Algorithm
//
// 1. If the image has no more paths than the budget, each path is a layer of its own. A
//    one-path layer is identical in every image that holds the path and changes only when
//    the path does: the unbounded ideal.
// 2. Otherwise r = ⌈budget / 4⌉ layers are kept for "the rest", and the budget − r paths of
//    highest rank get a layer each: rank = size × (1 + log10 popularity), the logarithm
//    rounded down to a quarter and computed in integers (Rank). Rank is a property
//    of the path, not of the image, so a path that has its own layer in one image has the
//    same layer in every image where it ranks that high; the rest is the small paths, which
//    cost little to send again.
// 3. The rest is split into at most r layers so that an update re-sends few unchanged bytes.
//    A layer changes when any path in the closure of any member changes. If each path is
//    equally likely to change, the unchanged bytes a layer L re-sends, summed over the paths
//    whose change changes L, are
//
//        cost(L) = Σ_{p ∈ L} size(p) × |J(L) \ C(p)| = |J(L)| × size(L) − Σ_{p ∈ L} size(p) × |C(p)|
//
//    where C(p) is the closure of p and J(L) the union of its members' closures.
//    Starting from one layer that holds the whole rest, repeatedly split one layer by a path f
//    of J: the members whose closure holds f, and the others. Of the SplitCandidates paths
//    that divide the layer's bytes most evenly, take the split that lowers the cost most;
//    split the layer where that is most; stop at r layers or when no split lowers the cost
//    (RestSplitter.cs). Slots left over go to the largest paths of the rest.
//
// Deterministic: paths are numbered in ordinal order whatever the input order; ties in rank
// and among split candidates go to the package name (the path without its hash, so that an
// update that only changes hashes does not reorder them), then to the path; of two splits
// with the same gain the earlier candidate wins. Paths the top-level
// paths do not reach are grouped like the others; references to paths that are not in the
// graph are ignored. Costs are exact integers (Int128).
//
// # Thresholds (chosen on bench/layering's Debian corpus)
//
// - a quarter of the budget for the rest: a sixth re-sent more after updates, a third
//   stored 5 % more at budget 20;
// - 16 split candidates: 32 moved the bytes by under 1 %;
// - popularity weighs in logarithmically: linear popularity (as in Nixery's rating) made
//   shared small libraries outrank big paths and did worse in every scenario. Even so it
//   gains nothing there (reverse-dependency counts say little about which images meet); it
//   stays so that learned or configured popularity can still lift a path to its own layer.
//
// # Example
//
// Budget 5, so r = 2 and three paths get a layer of their own. libc is popular (1,000):
//
//   app (40 MB) ──┬──▶ app-data (20 MB)
//                 ├──▶ libfoo (3 MB) ──▶ libc (10 MB)
//                 ├──▶ helper (2 MB) ──▶ libc
//                 ├──▶ icons (1 MB)
//                 └──▶ fonts (0.5 MB)
//
// Ranks: libc 40, app 40, app-data 20, libfoo 3, helper 2, icons 1, fonts 0.5 (MB), so
// {app} {app-data} {libc} are layers (app before libc by name). The rest, {libfoo, helper,
// icons, fonts}, costs 5 × 6.5 − 11.5 = 21 as one layer. Split by libc, it becomes
// {helper, libfoo} (3 × 5 − 10 = 5) and {fonts, icons} (2 × 1.5 − 1.5 = 1.5); split by
// libfoo, {libfoo} (0) and the others (8.5); by icons, 0 and 11.5. The libc split lowers the
// cost most: a new libc re-sends libfoo and helper, which changed with it, but not the
// icons and fonts. Layers: {app} {app-data} {libc} {helper, libfoo} {fonts, icons}.
using Nixery.Builder.Nix;

namespace Nixery.Builder.Layers;

public sealed class StableLayerGrouper : ILayerGrouper
{
    /// <summary>Paths tried as the dividing line of a split (the most even ones by bytes).</summary>
    public const int SplitCandidates = 16;

    public string Name => "stable";

    /// <summary>Layers kept for the paths that do not get one of their own: a quarter of the budget, at least one.</summary>
    public static int RestLayers(int budget) => (budget + 3) / 4;

    /// <summary>
    /// size × (1 + log10 popularity), with the logarithm rounded down to a quarter (popularity
    /// 1 → ×1, 2 → ×1.25, 10 → ×2, 1,000 → ×4) and computed in integers, so every machine
    /// ranks alike.
    /// </summary>
    public static ulong Rank(long size, int popularity)
    {
        // ⌊4 log10 p⌋ is the largest k with 10^k ≤ p⁴; p⁴ < 2^124 fits in 128 bits.
        var p = (UInt128)(uint)Math.Max(1, popularity);
        var fourth = p * p * p * p;
        var quarters = 4U;
        for (UInt128 power = 10; power <= fourth; power *= 10)
        {
            quarters++;
        }

        var rank = (UInt128)(ulong)Math.Max(0, size) * quarters / 4;
        return rank > ulong.MaxValue ? ulong.MaxValue : (ulong)rank;
    }

    public IReadOnlyList<LayerGroup> Group(RuntimeGraph graph, IReadOnlyList<string> topLevel, Popularity popularity, int budget)
    {
        var input = GrouperInput.Read(graph, topLevel, popularity, budget);
        var nodes = input.Paths;
        var rank = nodes.Select(n => Rank(n.NarSize, popularity.Of(n.Path))).ToArray();
        if (nodes.Length <= budget)
        {
            return [.. nodes.Select((n, i) => new LayerGroup([n.Path], rank[i]))];
        }

        var names = nodes.Select(n => StorePaths.Name(n.Path)).ToArray();
        var ranked = Enumerable.Range(0, nodes.Length)
            .OrderByDescending(i => rank[i])
            .ThenBy(i => names[i], StringComparer.Ordinal)
            .ThenBy(i => i)
            .ToList();
        var restLayers = RestLayers(budget);
        var own = ranked.Take(budget - restLayers).ToList();
        var rest = ranked.Skip(budget - restLayers).ToList(); // by rank, highest first

        var splitter = new RestSplitter(input.References, nodes.Select(n => Math.Max(0, n.NarSize)).ToArray(), names);
        var pieces = splitter.Split(rest, restLayers);

        // Slots no split could use go to the highest-ranked paths of the rest.
        var promoted = rest.Take(restLayers - pieces.Count).ToHashSet();
        own.AddRange(promoted);
        pieces = [.. pieces.Select(piece => piece.Where(p => !promoted.Contains(p)).ToList()).Where(piece => piece.Count > 0)];

        var layers = own.Select(i => new LayerGroup([nodes[i].Path], rank[i])).ToList();
        foreach (var piece in pieces)
        {
            var contents = piece.Select(i => nodes[i].Path).Order(StringComparer.Ordinal).ToList();
            var rating = piece.Aggregate(0UL, (sum, i) => sum + rank[i] < sum ? ulong.MaxValue : sum + rank[i]);
            layers.Add(new LayerGroup(contents, rating));
        }

        return layers;
    }
}
