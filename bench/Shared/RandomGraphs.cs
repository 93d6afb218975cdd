// The synthetic runtime graph both benchmarks group (bench/packing, bench/layering), kept in
// one place so their timings are of the same graph. Compiled into each bench project.
using Nixery.Builder.Nix;

namespace Nixery.Bench;

public static class RandomGraphs
{
    /// <summary>Node i refers only to larger indices: a DAG shaped like a package closure, with a
    /// quarter of the references reaching far (shared libraries) and a quarter of paths big.</summary>
    public static (RuntimeGraph Graph, IReadOnlyList<string> TopLevel) Closure(int count, int seed)
    {
        var random = new Random(seed);
        string PathOf(int i) => $"/nix/store/{i:D32}-p{i}";
        var nodes = new List<StorePathInfo>(count);
        for (var i = 0; i < count; i++)
        {
            var references = new HashSet<string> { PathOf(i) };
            for (var k = random.Next(0, 6); k > 0 && i + 1 < count; k--)
            {
                references.Add(PathOf(random.Next(4) == 0 ? random.Next(i + 1, count) : Math.Min(count - 1, i + 1 + random.Next(20))));
            }

            var closure = random.Next(4) == 0 ? random.NextInt64(100_000_000, 400_000_000) : random.NextInt64(1_000, 50_000_000);
            nodes.Add(new StorePathInfo(PathOf(i), references.ToList(), closure / 2, closure));
        }

        return (new RuntimeGraph(nodes), Enumerable.Range(0, count / 50 + 1).Select(i => PathOf(i * 7 % count)).Distinct().ToList());
    }
}
