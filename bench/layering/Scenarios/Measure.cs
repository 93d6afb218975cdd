// The three scenarios of issue 5, for one grouper at one budget. A layer's identity is the set
// of store paths it holds (LayerGroup.Key, as the registry's layer cache keys layers), so two
// images share a layer exactly when the grouper gave both the same set; a layer weighs the
// sum of its paths' sizes (uncompressed, as Installed-Size measures them).
//
//   (a) pull: one client pulls every image once, in a seeded random order, and keeps every
//       layer it pulled; bytes = what it downloads in all. It ends up holding each distinct
//       layer once, so the total equals (c); the order only decides which pull pays for a
//       layer. (a') is the same for ClientCount clients that pull PullsPerClient random images
//       each: fewer repeats, so more of the bytes are ones every grouping must send.
//   (b) update: for each sampled changed path, the package set is updated (that path and
//       every path that depends on it get new store paths), every image holding it is grouped
//       again, and a client that has all the old layers of that image pulls the new one;
//       bytes = what those clients download, summed over images and changes.
//   (c) storage: bytes of all distinct layers of all images, as the registry stores them.
//
// Every grouping is checked as it is made: each path of the image in exactly one layer, and
// no more layers than the grouper was given (the image budget less the symlink layer).
using Nixery.Bench.Layering.Corpus;
using Nixery.Builder.Layers;

namespace Nixery.Bench.Layering.Scenarios;

/// <param name="Category">"leaf", "mid" or "base".</param>
public sealed record Change(int Node, string Category);

/// <param name="Pull">(a): one client, every image.</param>
/// <param name="ClientPulls">(a) for many clients that pull a few images each.</param>
/// <param name="Update">(b): bytes per change category, and in all ("all").</param>
/// <param name="Storage">(c).</param>
public sealed record Outcome(long Pull, long ClientPulls, IReadOnlyDictionary<string, long> Update, long Storage);

public sealed class Measure(PackageGraph graph, IReadOnlyList<Image> images, IReadOnlyList<Change> changes, int seed)
{
    private readonly Dictionary<int, IReadOnlyList<string>> _updated = [];
    private readonly List<HashSet<int>> _closures = [.. images.Select(image => image.Closure.ToHashSet())];

    public Outcome Run(ILayerGrouper grouper, int imageBudget, bool boundedByBudget = true)
    {
        var budget = imageBudget - 1; // ImageBuilder keeps one layer for the symlink layer
        var before = images.Select(image => Group(grouper, image, graph.StorePaths, budget, boundedByBudget)).ToList();

        var pull = Pulled(before, [PullOrder()]);
        var clientPulls = Pulled(before, Clients());

        var storage = before.SelectMany(layers => layers).DistinctBy(layer => layer.Key).Sum(layer => layer.Bytes);

        var update = new SortedDictionary<string, long>(StringComparer.Ordinal) { ["all"] = 0 };
        for (var c = 0; c < changes.Count; c++)
        {
            var change = changes[c];
            var paths = UpdatedPaths(c);
            var bytes = 0L;
            for (var i = 0; i < images.Count; i++)
            {
                if (!_closures[i].Contains(change.Node))
                {
                    continue; // nothing in the image changed: the same layers, nothing to pull
                }

                var old = before[i].Select(layer => layer.Key).ToHashSet(StringComparer.Ordinal);
                bytes += Group(grouper, images[i], paths, budget, boundedByBudget).Where(layer => !old.Contains(layer.Key)).Sum(layer => layer.Bytes);
            }

            update[change.Category] = update.GetValueOrDefault(change.Category) + bytes;
            update["all"] += bytes;
        }

        return new Outcome(pull, clientPulls, update, storage);
    }

    /// <summary>Image indices in the order the client of (a) pulls them: a seeded shuffle.</summary>
    public IReadOnlyList<int> PullOrder()
    {
        var order = Enumerable.Range(0, images.Count).ToArray();
        new Random(seed).Shuffle(order);
        return order;
    }

    public const int ClientCount = 200;
    public const int PullsPerClient = 10;

    /// <summary>The many clients of (a'): each pulls PullsPerClient images, a seeded random sample, in order.</summary>
    public IReadOnlyList<IReadOnlyList<int>> Clients()
    {
        var random = new Random(seed + 1);
        var clients = new List<IReadOnlyList<int>>(ClientCount);
        for (var c = 0; c < ClientCount; c++)
        {
            var order = Enumerable.Range(0, images.Count).ToArray();
            random.Shuffle(order);
            clients.Add(order[..Math.Min(PullsPerClient, order.Length)]);
        }

        return clients;
    }

    // Bytes the clients download: each keeps every layer it pulled.
    private static long Pulled(List<List<(string Key, long Bytes)>> layers, IEnumerable<IReadOnlyList<int>> clients)
    {
        var bytes = 0L;
        foreach (var pulls in clients)
        {
            var held = new HashSet<string>(StringComparer.Ordinal);
            foreach (var i in pulls)
            {
                bytes += layers[i].Where(layer => held.Add(layer.Key)).Sum(layer => layer.Bytes);
            }
        }

        return bytes;
    }

    private IReadOnlyList<string> UpdatedPaths(int change)
    {
        if (!_updated.TryGetValue(change, out var paths))
        {
            paths = graph.Update(new HashSet<int> { changes[change].Node }, $"change {change}");
            _updated[change] = paths;
        }

        return paths;
    }

    private List<(string Key, long Bytes)> Group(ILayerGrouper grouper, Image image, IReadOnlyList<string> storePaths, int budget, bool boundedByBudget)
    {
        var runtime = graph.RuntimeGraph(image.Closure, storePaths);
        var topLevel = image.TopLevel.Select(n => storePaths[n]).ToList();
        var groups = grouper.Group(runtime, topLevel, graph.Popularity, budget);

        var size = runtime.Paths.ToDictionary(p => p.Path, p => p.NarSize, StringComparer.Ordinal);
        var placed = groups.SelectMany(g => g.Contents).ToList();
        if (placed.Count != size.Count || placed.Distinct(StringComparer.Ordinal).Count() != size.Count || !placed.All(size.ContainsKey))
        {
            throw new InvalidOperationException($"{grouper.Name} did not put each path of {image.Name} in exactly one layer");
        }

        if (boundedByBudget && groups.Count > budget)
        {
            throw new InvalidOperationException($"{grouper.Name} gave {image.Name} {groups.Count} layers, over its budget of {budget}");
        }

        return [.. groups.Select(g => (g.Key, g.Contents.Sum(p => size[p])))];
    }
}
