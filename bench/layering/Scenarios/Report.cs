// The bench's output: one table of scenario × algorithm → bytes and × the unbounded ideal,
// and the grouping times. Bytes are GB of 10^9; ratios are to the last column (one layer per
// store path) of the same row, so every number is relative to a reference of this run.
using System.Globalization;

namespace Nixery.Bench.Layering.Scenarios;

public static class Report
{
    private static readonly string[] UpdateCategories = ["leaf", "mid", "base"];

    private const int Label = 34;
    private const int Cell = 17;

    public static void Table(IReadOnlyList<string> names, int reference, int ours, IReadOnlyList<Change> changes, IReadOnlyList<(int Budget, IReadOnlyList<Outcome> Outcomes)> results, int imageCount)
    {
        var idealColumn = names.Count - 1;
        var vs = $"{names[ours]} vs {names[reference]}";
        var header = $"{"budget",-7}{"scenario",-Label}" + string.Concat(names.Select(n => $"{n,Cell}")) + $"{vs,20}";
        Console.WriteLine("one-per-image: the whole image one layer; nixpkgs: referencesByPopularity as buildLayeredImage uses it;");
        Console.WriteLine("nixery: Nixery's algorithm (NIXERY_LAYERING=nixery); stable: ours, the default; one-per-path: the unbounded ideal");
        Console.WriteLine("bytes in GB (10^9) and × the unbounded ideal (one-per-path, same row)");
        Console.WriteLine(header);
        Console.WriteLine(new string('-', header.Length));
        var categories = changes.GroupBy(c => c.Category).ToDictionary(g => g.Key, g => g.Count());
        foreach (var (budget, outcomes) in results)
        {
            void Row(string label, Func<Outcome, long> bytes)
            {
                var ideal = (double)bytes(outcomes[idealColumn]);
                var cells = outcomes.Select(o => Format(bytes(o), ideal));
                var change = (bytes(outcomes[ours]) - (double)bytes(outcomes[reference])) / bytes(outcomes[reference]);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{budget,-7}{label,-Label}{string.Concat(cells.Select(c => $"{c,Cell}"))}{change,19:+0.0%;-0.0%}"));
            }

            Row($"(a)  1 client, {imageCount} images", o => o.Pull);
            Row($"(a') {Measure.ClientCount} clients × {Measure.PullsPerClient} images", o => o.ClientPulls);
            foreach (var category in UpdateCategories.Where(categories.ContainsKey))
            {
                Row($"(b)  update: {category} ({categories[category]})", o => o.Update.GetValueOrDefault(category));
            }

            Row($"(b)  update: all ({changes.Count})", o => o.Update["all"]);
            Row("(c)  stored", o => o.Storage);
            Console.WriteLine(new string('-', header.Length));
        }
    }

    public static void Timing(string ours, string reference, IReadOnlyList<Timed> rows, int budget)
    {
        Console.WriteLine($"grouping time, budget {budget} (94 less the symlink layer), median of {Scenarios.Timing.Runs} runs after a warm-up");
        var header = $"{"graph",-34}{"paths",8}{reference + " ms",14}{ours + " ms",14}{"ratio",10}";
        Console.WriteLine(header);
        Console.WriteLine(new string('-', header.Length));
        foreach (var row in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{row.Graph,-34}{row.Paths,8:N0}{row.ReferenceMs,14:F1}{row.OursMs,14:F1}{row.OursMs / row.ReferenceMs,10:F2}"));
        }

        Console.WriteLine($"ratio = {ours} / {reference} (same graph, same run)");
    }

    private static string Format(long bytes, double ideal) =>
        string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e9:F2} ×{(ideal > 0 ? bytes / ideal : 0):F2}");
}
