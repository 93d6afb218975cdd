// Step 3 of StableLayerGrouper: splits "the rest" (the paths too small for a layer of their
// own) into layers so that an update of the package set re-sends few bytes that did not
// change. The cost model and the greedy split are written up in StableLayerGrouper.cs.
//
// Closures are bit sets over the image's paths (n²/64 words: 3 MB for 5,000 paths), built
// once in dependency order (each path after everything it refers to: the order in which
// QuikGraph's depth-first search finishes them), so the union of a layer's closures is an
// OR per member and a split's cost is exact. For each layer the best split is found once,
// when the layer is made: the candidates' reach (bytes of the members whose closure holds
// them) is summed over the members' closures, the SplitCandidates most even ones are tried.
using System.Numerics;
using QuikGraph;
using QuikGraph.Algorithms.Search;

namespace Nixery.Builder.Layers;

internal sealed class RestSplitter
{
    private readonly long[] _size;
    private readonly string[] _names;
    private readonly ulong[][] _closure;
    private readonly int[] _closureCount;
    private readonly int _words;
    private readonly long[] _reachBytes;
    private readonly int[] _reachCount;

    /// <param name="references">Nodes 0 … n − 1, an edge from each node to each node it refers to (not itself).</param>
    /// <param name="size">Node → its own size in bytes.</param>
    /// <param name="names">Node → package name, for ties.</param>
    public RestSplitter(IVertexListGraph<int, SEquatableEdge<int>> references, long[] size, string[] names)
    {
        var count = references.VertexCount;
        _size = size;
        _names = names;
        _words = (count + 63) / 64;
        _closure = new ulong[count][];
        _closureCount = new int[count];
        _reachBytes = new long[count];
        _reachCount = new int[count];
        foreach (var node in DependencyOrder(references))
        {
            var bits = new ulong[_words];
            bits[node / 64] |= 1UL << (node % 64);
            foreach (var reference in references.OutEdges(node).Select(edge => edge.Target))
            {
                // Null only on a reference cycle, which Nix graphs do not have; the closure is then partial.
                if (_closure[reference] is not { } below)
                {
                    continue;
                }

                for (var w = 0; w < _words; w++)
                {
                    bits[w] |= below[w];
                }
            }

            _closure[node] = bits;
            _closureCount[node] = bits.Sum(word => BitOperations.PopCount(word));
        }
    }

    /// <summary>Splits <paramref name="rest"/> into at most <paramref name="layers"/> groups, each sorted by node.</summary>
    public List<List<int>> Split(IReadOnlyList<int> rest, int layers)
    {
        var pieces = new List<Piece> { Best([.. rest.Order()]) };
        while (pieces.Count < layers)
        {
            var at = -1;
            for (var i = 0; i < pieces.Count; i++)
            {
                if (pieces[i].Gain > 0 && (at < 0 || pieces[i].Gain > pieces[at].Gain))
                {
                    at = i;
                }
            }

            if (at < 0)
            {
                break; // no split lowers the cost
            }

            var split = pieces[at];
            pieces[at] = Best(split.With!);
            pieces.Add(Best(split.Without!));
        }

        return [.. pieces.Select(p => p.Members)];
    }

    /// <summary>|J| × size − Σ size × |C|, as in StableLayerGrouper.cs.</summary>
    private Int128 Cost(List<int> members)
    {
        var union = new ulong[_words];
        Int128 bytes = 0, own = 0;
        foreach (var member in members)
        {
            var bits = _closure[member];
            for (var w = 0; w < _words; w++)
            {
                union[w] |= bits[w];
            }

            bytes += _size[member];
            own += (Int128)_size[member] * _closureCount[member];
        }

        var count = union.Sum(word => BitOperations.PopCount(word));
        return count * bytes - own;
    }

    // The piece with its best split, if any split lowers its cost.
    private Piece Best(List<int> members)
    {
        var none = new Piece(members, 0, null, null);
        if (members.Count < 2)
        {
            return none;
        }

        // Reach of every path in the members' closures: their bytes and how many there are.
        var total = 0L;
        var touched = new List<int>();
        foreach (var member in members)
        {
            total += _size[member];
            var bits = _closure[member];
            for (var w = 0; w < _words; w++)
            {
                for (var word = bits[w]; word != 0; word &= word - 1)
                {
                    var node = w * 64 + BitOperations.TrailingZeroCount(word);
                    if (_reachCount[node]++ == 0)
                    {
                        touched.Add(node);
                    }

                    _reachBytes[node] += _size[member];
                }
            }
        }

        var candidates = touched
            .Where(node => _reachCount[node] < members.Count)
            .OrderByDescending(node => Math.Min(_reachBytes[node], total - _reachBytes[node]))
            .ThenBy(node => _names[node], StringComparer.Ordinal)
            .ThenBy(node => node)
            .Take(StableLayerGrouper.SplitCandidates)
            .ToList();
        foreach (var node in touched)
        {
            _reachCount[node] = 0;
            _reachBytes[node] = 0;
        }

        var cost = Cost(members);
        var best = none;
        foreach (var feature in candidates)
        {
            var with = members.Where(m => Holds(m, feature)).ToList();
            var without = members.Where(m => !Holds(m, feature)).ToList();
            if (with.Count == 0 || without.Count == 0)
            {
                continue;
            }

            var gain = cost - Cost(with) - Cost(without);
            if (gain > best.Gain)
            {
                best = new Piece(members, gain, with, without);
            }
        }

        return best;
    }

    private bool Holds(int member, int node) => (_closure[member][node / 64] & (1UL << (node % 64))) != 0;

    // Nodes so that each comes after everything it refers to: the order in which QuikGraph's
    // depth-first search finishes them (it keeps its own stack, as closures can be deep). On
    // the acyclic graphs Nix gives that is the reverse of a topological sort; QuikGraph's
    // TopologicalSort would throw on a cycle where this, as before, leaves closures partial.
    private static List<int> DependencyOrder(IVertexListGraph<int, SEquatableEdge<int>> references)
    {
        var order = new List<int>(references.VertexCount);
        var search = new DepthFirstSearchAlgorithm<int, SEquatableEdge<int>>(references);
        search.FinishVertex += order.Add;
        search.Compute();
        return order;
    }

    private sealed record Piece(List<int> Members, Int128 Gain, List<int>? With, List<int>? Without);
}
