// How fast LayerPacker turns directories into a gzipped layer, next to what GNU tar and
// gzip take for the same directories on the same machine in the same run:
//
//   ours:      LayerPacker.PackStorePathsAsync(paths) → discarded (digests and size computed),
//              deflate chunks compressed on every processor (PackingPool.Default)
//   reference: bash -c 'tar -c --sort=name -f - PATHS | gzip -6 | wc -c'
//   and:       the same with pigz -6 (every processor)
//
// The references run tar and the compressor as processes in a pipe (no hashing); ours also
// computes both SHA-256s. Each is measured three times, after one untimed pass that warms
// the page cache. A second section (--candidates) compresses the same tar, one thread each,
// with every deflate we considered (LibDeflate.cs says which we chose and why). A third times
// layer grouping of a random 5,000-path graph. Only ratios are meaningful across machines;
// nothing here asserts.
using System.Diagnostics;
using System.Globalization;
using Nixery.Bench;
using Nixery.Builder.Layers;
using Nixery.Builder.Packing;

const int Runs = 3;
var candidates = args.Contains("--candidates");
args = [.. args.Where(a => a != "--candidates")];
string? once = null; // --once FILE: pack the paths into FILE and exit, for timing the whole process from outside
if (args.Length >= 2 && args[0] == "--once")
{
    once = args[1];
    args = args[2..];
}

var paths = args.Length > 0 ? args : ["/usr/lib/python3.11", "/usr/share/perl"];
paths = paths.Select(p => Path.GetFullPath(p).TrimEnd('/')).ToArray();
foreach (var path in paths)
{
    if (!Directory.Exists(path) && !File.Exists(path))
    {
        Console.Error.WriteLine($"no such path: {path} (give store paths or directories as arguments)");
        return 2;
    }
}

if (once is not null)
{
    await using var file = new FileStream(once, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
    await LayerPacker.PackStorePathsAsync(paths, file, CancellationToken.None);
    return 0;
}

var inputBytes = paths.Sum(InputBytes);
Console.WriteLine($"packing {string.Join(' ', paths)}");
Console.WriteLine($"input: {inputBytes:N0} bytes in regular files");
Console.WriteLine();

Console.WriteLine($"load average before: {LoadAverage()}");

// Warm-up: read everything once through each path (page cache, JIT).
await PackOursAsync(paths);
await PackReferenceAsync(paths, "gzip -6");

var rows = new List<(double Ours, double Reference, long OurSize, long ReferenceSize)>();
var pigzRows = new List<double>();
for (var run = 0; run < Runs; run++)
{
    var (ourTime, ourSize) = await PackOursAsync(paths);
    var (referenceTime, referenceSize) = await PackReferenceAsync(paths, "gzip -6");
    var (pigzTime, _) = await PackReferenceAsync(paths, "pigz -6");
    rows.Add((ourTime, referenceTime, ourSize, referenceSize));
    pigzRows.Add(ourTime / pigzTime);
}

var header = $"{"run",-6}{"input bytes",16}{"ours s",10}{"tar|gzip s",12}{"time ratio",12}{"ours MB/s",11}{"ours gz bytes",16}{"ref gz bytes",16}{"size ratio",12}";
Console.WriteLine(header);
Console.WriteLine(new string('-', header.Length));
for (var i = 0; i < rows.Count; i++)
{
    PrintRow((i + 1).ToString(CultureInfo.InvariantCulture), rows[i]);
}

var median = (
    Median(rows.Select(r => r.Ours)),
    Median(rows.Select(r => r.Reference)),
    rows[0].OurSize,
    rows[0].ReferenceSize);
Console.WriteLine(new string('-', header.Length));
PrintRow("median", median);
Console.WriteLine();
Console.WriteLine("time ratio = ours / reference (below 1: we are faster); size ratio = our gzip bytes / reference gzip bytes");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ours / tar | pigz -6 ({Environment.ProcessorCount} processors): median {Median(pigzRows):F2} ({string.Join(", ", pigzRows.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))})"));
Console.WriteLine($"load average after: {LoadAverage()}");
Console.WriteLine();

if (candidates)
{
    await DeflateCandidates.RunAsync(paths);
}

// Grouping: a random 5,000-path closure, budget 94.
var (graph, topLevel) = RandomGraphs.Closure(5_000, seed: 1);
var grouper = new NixeryLayerGrouper();
grouper.Group(graph, topLevel, Popularity.Empty, LayerBudget.Default); // JIT warm-up
var groupingTimes = new List<double>();
IReadOnlyList<LayerGroup> layers = [];
for (var i = 0; i < 5; i++)
{
    var watch = Stopwatch.StartNew();
    layers = grouper.Group(graph, topLevel, Popularity.Empty, LayerBudget.Default);
    groupingTimes.Add(watch.Elapsed.TotalMilliseconds);
}

Console.WriteLine($"grouping 5,000 paths into {layers.Count} layers (budget {LayerBudget.Default}): " +
    $"median {Median(groupingTimes):F1} ms over 5 runs ({string.Join(", ", groupingTimes.Select(t => t.ToString("F1", CultureInfo.InvariantCulture)))})");
return 0;

void PrintRow(string label, (double Ours, double Reference, long OurSize, long ReferenceSize) row) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{label,-6}{inputBytes,16:N0}{row.Ours,10:F2}{row.Reference,12:F2}{row.Ours / row.Reference,12:F2}{inputBytes / row.Ours / 1e6,11:F1}{row.OurSize,16:N0}{row.ReferenceSize,16:N0}{(double)row.OurSize / row.ReferenceSize,12:F3}"));

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

static long InputBytes(string path)
{
    if (File.Exists(path))
    {
        return new FileInfo(path).Length;
    }

    var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
    return new DirectoryInfo(path).EnumerateFiles("*", options).Sum(f => f.Length);
}

static async Task<(double Seconds, long Size)> PackOursAsync(string[] paths)
{
    var watch = Stopwatch.StartNew();
    var layer = await LayerPacker.PackStorePathsAsync(paths, Stream.Null, CancellationToken.None);
    return (watch.Elapsed.TotalSeconds, layer.Size);
}

static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

static async Task<(double Seconds, long Size)> PackReferenceAsync(string[] paths, string compressor)
{
    var quoted = string.Join(' ', paths.Select(p => "'" + p.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
    var start = new ProcessStartInfo("bash")
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
    };
    start.ArgumentList.Add("-c");
    start.ArgumentList.Add($"set -o pipefail; tar -c --sort=name -f - {quoted} 2>/dev/null | {compressor} | wc -c");
    var watch = Stopwatch.StartNew();
    using var process = Process.Start(start)!;
    var stdout = await process.StandardOutput.ReadToEndAsync();
    var stderr = await process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    var seconds = watch.Elapsed.TotalSeconds;
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"reference pipeline exited {process.ExitCode}: {stderr}");
    }

    return (seconds, long.Parse(stdout.Trim(), CultureInfo.InvariantCulture));
}
