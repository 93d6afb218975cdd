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
        var (random, randomTop) = RandomGraphs.Closure(Paths, seed: 1);
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
}
