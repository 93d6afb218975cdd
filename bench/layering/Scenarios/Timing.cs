// How long grouping takes for a 5,000-path graph (issue 5 asks for under a second), for one
// grouper next to a reference grouper timed in the same run: a random DAG made the way
// bench/packing makes one, and a real closure of the Debian corpus cut at the first set of
// candidate packages whose closure reaches 5,000 paths. Median of Runs runs after one warm-up.
using System.Diagnostics;
using Nixery.Bench.Layering.Corpus;
using Nixery.Builder.Layers;
using Nixery.Builder.Nix;

namespace Nixery.Bench.Layering.Scenarios;

public sealed record Timed(string Graph, int Paths, double ReferenceMs, double OursMs);

public static class Timing
{
    public const int Runs = 5;
    public const int Paths = 5_000;

    public static IReadOnlyList<Timed> Measure(ILayerGrouper ours, ILayerGrouper reference, PackageGraph corpus, IReadOnlyList<string> candidates, int budget)
    {
        var (random, randomTop) = RandomGraph(Paths, seed: 1);
        var (debian, debianTop) = DebianClosure(corpus, candidates);
        return
        [
            Time("random DAG (as bench/packing)", random, randomTop, ours, reference, budget),
            Time("Debian closure", debian, debianTop, ours, reference, budget),
        ];
    }

    private static Timed Time(string name, RuntimeGraph graph, IReadOnlyList<string> topLevel, ILayerGrouper ours, ILayerGrouper reference, int budget) =>
        new(name, graph.Paths.Count, Median(reference, graph, topLevel, budget), Median(ours, graph, topLevel, budget));

    private static double Median(ILayerGrouper grouper, RuntimeGraph graph, IReadOnlyList<string> topLevel, int budget)
    {
        grouper.Group(graph, topLevel, Popularity.Empty, budget); // JIT warm-up
        var times = new List<double>();
        for (var i = 0; i < Runs; i++)
        {
            var watch = Stopwatch.StartNew();
            grouper.Group(graph, topLevel, Popularity.Empty, budget);
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        return times[times.Count / 2];
    }

    private static (RuntimeGraph, IReadOnlyList<string>) DebianClosure(PackageGraph corpus, IReadOnlyList<string> candidates)
    {
        var top = new List<int>();
        IReadOnlyList<int> closure = [];
        foreach (var package in candidates)
        {
            top.Add(corpus.NodeOf(package));
            closure = corpus.Closure(top);
            if (closure.Count >= Paths)
            {
                break;
            }
        }

        return (corpus.RuntimeGraph(closure, corpus.StorePaths), top.Distinct().Select(n => corpus.StorePaths[n]).ToList());
    }

    // bench/packing's generator: node i refers only to larger indices, a quarter of the
    // references reach far (shared libraries) and a quarter of the paths are big.
    private static (RuntimeGraph, IReadOnlyList<string>) RandomGraph(int count, int seed)
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
