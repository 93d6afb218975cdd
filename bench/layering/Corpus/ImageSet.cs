// The images the bench builds: what a registry's users might ask for, drawn by a fixed,
// seeded rule so every run (and every machine with the same package index) gets the same set.
//
// Rule:
//   1. Candidates are the packages a user would name in an image: Section one of
//      ToolSections, and not a library or a part of another package (name not starting with
//      "lib", not ending in -dev, -doc, -dbg, -dbgsym, -common, -data).
//   2. Candidates are ranked by popularity (how many packages depend on them directly,
//      most first; ties by name), and the candidate of rank r (1, 2, …) is drawn with weight
//      1/r — a Zipf law, as requests to a public registry follow: python3 or perl appear in
//      many images, most tools in one or two.
//   3. Image i: k = 1 + rand(6) requested packages, drawn without replacement from the
//      candidates (rand is System.Random with the seed). An image equal to an earlier one
//      (the same sorted package list, which is the same image name) is drawn again.
//   4. Every image also holds ca-certificates and netbase, as Nixery adds cacert and
//      iana-etc to every image (and the offline package set does the same).
namespace Nixery.Bench.Layering.Corpus;

/// <param name="Packages">The requested packages, sorted: the image name.</param>
/// <param name="TopLevel">Graph nodes of the requested and always-included packages, sorted, distinct.</param>
public sealed record Image(string Name, IReadOnlyList<string> Packages, IReadOnlyList<int> TopLevel, IReadOnlyList<int> Closure);

public static class ImageSet
{
    /// <summary>Package name endings of what is no tool: headers, documentation, debug symbols, shared data.</summary>
    private static readonly string[] NotToolSuffixes = ["-dev", "-doc", "-dbg", "-dbgsym", "-common", "-data"];

    public static readonly IReadOnlySet<string> ToolSections = new HashSet<string>(StringComparer.Ordinal)
    {
        "admin", "database", "devel", "editors", "httpd", "interpreters", "javascript", "mail", "net",
        "perl", "python", "ruby", "science", "shells", "text", "utils", "vcs", "web",
    };

    public static readonly IReadOnlyList<string> AlwaysIncluded = ["ca-certificates", "netbase"];

    public const int MaxPackages = 6;

    public static string Rule =>
        $"images: 1-{MaxPackages} packages each, Zipf(1/rank) over candidates ranked by reverse-dependency count " +
        $"(Sections {string.Join(",", ToolSections.Order(StringComparer.Ordinal))}; no lib*, -dev, -doc, -dbg, -dbgsym, -common, -data), " +
        $"plus {string.Join(" and ", AlwaysIncluded)}";

    public static IReadOnlyList<string> Candidates(DebianIndex index, PackageGraph graph) =>
        [.. index.Packages.Values
            .Where(p => ToolSections.Contains(p.Section.Split('/')[^1]))
            .Where(p => !p.Name.StartsWith("lib", StringComparison.Ordinal))
            .Where(p => !NotToolSuffixes.Any(s => p.Name.EndsWith(s, StringComparison.Ordinal)))
            .OrderByDescending(p => graph.Edges.InDegree(graph.NodeOf(p.Name)))
            .ThenBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => p.Name)];

    public static IReadOnlyList<Image> Draw(DebianIndex index, PackageGraph graph, int count, int seed)
    {
        var candidates = Candidates(index, graph);
        var cumulative = new double[candidates.Count];
        var total = 0.0;
        for (var r = 0; r < candidates.Count; r++)
        {
            total += 1.0 / (r + 1);
            cumulative[r] = total;
        }

        var random = new Random(seed);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var images = new List<Image>(count);
        var always = AlwaysIncluded.Where(graph.Contains).Select(graph.NodeOf).ToList();
        while (images.Count < count)
        {
            var k = 1 + random.Next(MaxPackages);
            var packages = new SortedSet<string>(StringComparer.Ordinal);
            while (packages.Count < k)
            {
                var at = Array.BinarySearch(cumulative, random.NextDouble() * total);
                packages.Add(candidates[at < 0 ? ~at : at]);
            }

            var name = string.Join('/', packages);
            if (!names.Add(name))
            {
                continue;
            }

            var topLevel = packages.Select(graph.NodeOf).Concat(always).Distinct().Order().ToList();
            images.Add(new Image(name, [.. packages], topLevel, graph.Closure(topLevel)));
        }

        return images;
    }
}
