// Small runtime graphs for the grouping tests, written as store paths with made-up hashes.
using Nixery.Builder.Layers;
using Nixery.Builder.Nix;

namespace Nixery.Builder.Tests.Layers;

internal static class GraphFixtures
{
    public const long MB = 1_000_000;

    /// <summary>
    /// "/nix/store/&lt;hash&gt;-&lt;name&gt;" with a made-up hash: the letters and digits of the
    /// name padded with zeros, so paths sort like names.
    /// </summary>
    public static string StorePath(string name)
    {
        var hash = new string(name.Where(char.IsAsciiLetterOrDigit).ToArray()).ToLowerInvariant().PadRight(32, '0')[..32];
        return $"/nix/store/{hash}-{name}";
    }

    public static StorePathInfo Node(string name, long closureSize, params string[] references) =>
        new(StorePath(name), [StorePath(name), .. references.Select(StorePath)], closureSize / 2, closureSize);

    /// <summary>A path of its own size <paramref name="narSize"/> (closure size left at the same value: StableLayerGrouper does not read it).</summary>
    public static StorePathInfo Sized(string name, long narSize, params string[] references) =>
        new(StorePath(name), [StorePath(name), .. references.Select(StorePath)], narSize, narSize);

    /// <summary>
    /// The graph of the worked example in Nixery's layers.go (and in NixeryLayerGrouper.cs):
    /// img → A, B, C, D; A, B, C → E; D → F, G; G is big (150 MB closure), E popular (100).
    /// Ratings: A = B = C = 11 MB, {D, F} = 154 MB, E = 100 × 10 MB, G = 10 × 150 MB.
    /// </summary>
    public static RuntimeGraph WorkedExample { get; } = new(
    [
        Node("a", 11 * MB, "e"),
        Node("b", 11 * MB, "e"),
        Node("c", 11 * MB, "e"),
        Node("d", 153 * MB, "f", "g"),
        Node("e", 10 * MB),
        Node("f", 1 * MB),
        Node("g", 150 * MB),
    ]);

    public static IReadOnlyList<string> WorkedExampleTopLevel { get; } = new[] { "a", "b", "c", "d" }.Select(StorePath).ToList();

    public static Popularity WorkedExamplePopularity { get; } = new(new Dictionary<string, int> { ["e"] = 100, ["g"] = 10 });

    /// <summary>A random DAG: node i refers only to nodes with a larger index (so no cycles).</summary>
    public static (RuntimeGraph Graph, IReadOnlyList<string> TopLevel) RandomDag(int count, int seed)
    {
        var random = new Random(seed);
        var names = Enumerable.Range(0, count).Select(i => $"p{i:D5}").ToArray();
        var paths = new List<StorePathInfo>(count);
        for (var i = 0; i < count; i++)
        {
            var references = new HashSet<string> { names[i] };
            var fanOut = random.Next(0, 6);
            for (var k = 0; k < fanOut && i + 1 < count; k++)
            {
                // Mostly near neighbours, sometimes far ones: shared libraries deep in the graph.
                var target = random.Next(4) == 0 ? random.Next(i + 1, count) : Math.Min(count - 1, i + 1 + random.Next(20));
                references.Add(names[target]);
            }

            var closure = random.Next(4) == 0 ? random.NextInt64(100 * MB, 400 * MB) : random.NextInt64(1_000, 50 * MB);
            paths.Add(new StorePathInfo(StorePath(names[i]), references.Select(StorePath).ToList(), closure / 2, closure));
        }

        var topLevel = Enumerable.Range(0, count / 50 + 1).Select(i => StorePath(names[i * 7 % count])).Distinct().ToList();
        return (new RuntimeGraph(paths), topLevel);
    }
}
