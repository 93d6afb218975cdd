// How well each layering algorithm lets images share layers, measured on real dependency
// graphs: the Debian package index of this machine (Corpus/), as Nix runtime graphs, with a
// seeded set of images drawn from it (Corpus/ImageSet.cs) and the scenarios of issue 5
// (Scenarios/Measure.cs, Scenarios/Changes.cs). Prints one table, scenario × algorithm →
// bytes and the ratio to the unbounded ideal (one layer per store path, measured in the same
// run), for image budgets 94 and 20; then the time to group a 5,000-path graph, ours next to
// Nixery's. Run through ./run, which fetches the index first.
//
//   usage: Nixery.Bench.Layering --index <apt-cache dumpavail output> [--images N] [--seed S]
//
// Algorithms: the whole image in one layer; nixpkgs' referencesByPopularity as
// buildLayeredImage uses it; Nixery's (NixeryLayerGrouper, the registry's grouper before
// issue 5); ours (StableLayerGrouper, the default); one layer per store path, which ignores
// the budget. Every one but the last is held to the budget. All get the same popularity:
// each package's reverse-dependency count in the corpus, as Nixery's popcount computes it.
using System.Globalization;
using System.Security.Cryptography;
using Nixery.Bench.Layering.Baselines;
using Nixery.Bench.Layering.Corpus;
using Nixery.Bench.Layering.Scenarios;
using Nixery.Builder.Layers;

string? indexFile = null;
var imageCount = 250;
var seed = 1;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--index" when i + 1 < args.Length:
            indexFile = args[++i];
            break;
        case "--images" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var n) && n > 0:
            imageCount = n;
            i++;
            break;
        case "--seed" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var s):
            seed = s;
            i++;
            break;
        default:
            Console.Error.WriteLine("usage: Nixery.Bench.Layering --index <apt-cache dumpavail output> [--images N] [--seed S]");
            return 2;
    }
}

if (indexFile is null || !File.Exists(indexFile))
{
    Console.Error.WriteLine($"no package index at '{indexFile}'; bench/layering/run writes one with apt-cache dumpavail");
    return 2;
}

ReferencesByPopularityGrouper.CheckAgainstClosureGraphExample();

DebianIndex index;
using (var reader = File.OpenText(indexFile))
{
    index = DebianIndex.Parse(reader);
}

var graph = PackageGraph.Build(index);
var digest = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(indexFile)))[..16];
var cycles = graph.Nodes.Where(node => node.Members.Count > 1).ToList();
Console.WriteLine($"corpus: {index.Packages.Count:N0} Debian packages (index sha256 {digest}…), {index.Unsatisfied} dependencies no package satisfies (dropped);");
Console.WriteLine($"        {cycles.Count} dependency cycles merged into one store path each (largest: {cycles.Max(c => c.Members.Count)} packages), {graph.Nodes.Count:N0} store paths");

var images = ImageSet.Draw(index, graph, imageCount, seed);
var changes = Changes.Draw(graph, images, seed);
var closures = images.Select(image => image.Closure.Count).Order().ToList();
Console.WriteLine($"seed {seed}; {images.Count} {ImageSet.Rule}");
Console.WriteLine($"        closures: {closures[0]}–{closures[^1]} paths, median {closures[closures.Count / 2]}; {images.SelectMany(i => i.Closure).Distinct().Count():N0} distinct paths");
Console.WriteLine($"        {Changes.Rule}: {string.Join(", ", changes.Select(c => graph.Nodes[c.Node].Members[0]))}");
Console.WriteLine($"        (a') {Measure.ClientCount} clients × {Measure.PullsPerClient} random images each");
Console.WriteLine();

var ideal = new PathPerLayerGrouper();
var ours = new StableLayerGrouper();
var nixery = new NixeryLayerGrouper();
ILayerGrouper[] groupers = [new WholeImageGrouper(), new ReferencesByPopularityGrouper(), nixery, ours, ideal];
var measure = new Measure(graph, images, changes, seed);
var results = new List<(int Budget, IReadOnlyList<Outcome> Outcomes)>();
foreach (var budget in new[] { LayerBudget.Default, 20 })
{
    results.Add((budget, [.. groupers.Select(g => measure.Run(g, budget, boundedByBudget: g != ideal))]));
}

Report.Table(groupers.Select(g => g.Name).ToList(), Array.IndexOf(groupers, nixery), Array.IndexOf(groupers, ours), changes, results, images.Count);
Console.WriteLine("every grouping checked: each path in exactly one layer, at most budget − 1 layers (the symlink layer is the last)");
Console.WriteLine();

var timed = Timing.Measure(ours, nixery, graph, ImageSet.Candidates(index, graph), LayerBudget.Default - 1);
Report.Timing(ours.Name, nixery.Name, timed, LayerBudget.Default - 1);
return 0;
