// How long a cold build takes on the worker path, next to what the standard tools take to
// turn the same store paths into gzip on the same machine in the same run:
//
//   ours:      ImageBuilder.BuildAsync on fresh filesystem storage: Nix evaluates and
//              realises (the store is warm, so nothing is built), the grouper splits the
//              closure into layers, every layer is packed, hashed, written and synced, then
//              the config and manifests; the image index entry last.
//   gzip -6:   bash -c 'tar -c --sort=name PATHS | gzip -6 > F && sync F'   (one core for gzip)
//   pigz -6:   bash -c 'tar -c --sort=name PATHS | pigz -6 > F && sync F'   (every core)
//
// PATHS is the image's closure as Nix reported it to the build. Each run starts from empty
// storage; one untimed pass of each warms the page cache and the JIT. Runs alternate
// ours, gzip, pigz, so drift in the machine's load touches all three alike; the load average
// is printed before and after. Only ratios are meaningful across machines; nothing asserts.
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Nixery.Builder.Images;
using Nixery.Builder.Layers;
using Nixery.Builder.Nix;
using Nixery.Builder.PopularityData;
using Nixery.Builder.Sources;
using Nixery.Core.Builds;
using Nixery.Core.Names;
using Nixery.Core.Options;
using Nixery.Core.Queue;
using Nixery.Core.Sources;
using Nixery.Core.Storage;

var runs = 3;
var concurrency = 0;
string? packageSet = null, nixPath = null;
var images = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--concurrency": concurrency = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--package-set": packageSet = args[++i]; break;
        case "--nix": nixPath = args[++i]; break;
        default: images.Add(args[i]); break;
    }
}

if (packageSet is null || nixPath is null)
{
    Console.Error.WriteLine("usage: bench/coldbuild/run [--runs N] [--concurrency N] [image ...]");
    return 2;
}

if (images.Count == 0)
{
    images.Add("shell/git/curl/perl");
}

var root = Directory.CreateTempSubdirectory("nixery-coldbuild-").FullName;
try
{
    var source = new PackageSource("path", packageSet, PathSource.HashTree(packageSet));
    var nix = new RecordingNix(new NixClient(new NixOptions { NixExpressionsPath = nixPath, Timeout = TimeSpan.FromMinutes(10) }, NullLogger<NixClient>.Instance));

    Console.WriteLine($"images: {string.Join(' ', images)}; pack concurrency {(concurrency > 0 ? concurrency : Environment.ProcessorCount)} of {Environment.ProcessorCount} processors; {runs} runs");
    Console.WriteLine($"load average before: {LoadAverage()}");

    // Warm-up: one build (Nix evaluation cache, page cache, JIT) that also tells the paths.
    var (_, layerBytes) = await BuildAllAsync(Path.Combine(root, "warm"));
    var paths = nix.Paths.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    var tarBytes = paths.Sum(TreeBytes);
    var gzipBytes = await ReferenceAsync("gzip -6", Path.Combine(root, "warm"));
    await ReferenceAsync("pigz -6", Path.Combine(root, "warm"));
    Console.WriteLine($"{paths.Count} store paths, {tarBytes:N0} bytes in files; our layers {layerBytes:N0} bytes, gzip -6 {gzipBytes.Size:N0} bytes (size ratio {(double)layerBytes / gzipBytes.Size:F3})");
    Console.WriteLine();

    var rows = new List<(double Ours, double Gzip, double Pigz)>();
    var nixSeconds = new List<double>();
    for (var run = 1; run <= runs; run++)
    {
        var folder = Path.Combine(root, $"run{run}");
        var before = nix.Spent;
        var (ours, _) = await BuildAllAsync(Path.Combine(folder, "storage"));
        nixSeconds.Add((nix.Spent - before).TotalSeconds);
        var gzip = await ReferenceAsync("gzip -6", folder);
        var pigz = await ReferenceAsync("pigz -6", folder);
        rows.Add((ours, gzip.Seconds, pigz.Seconds));
        Directory.Delete(folder, recursive: true);
    }

    var header = $"{"run",-7}{"ours s",10}{"gzip -6 s",12}{"pigz -6 s",12}{"ours/gzip",12}{"ours/pigz",12}";
    Console.WriteLine(header);
    Console.WriteLine(new string('-', header.Length));
    for (var i = 0; i < rows.Count; i++)
    {
        Print((i + 1).ToString(CultureInfo.InvariantCulture), rows[i]);
    }

    Console.WriteLine(new string('-', header.Length));
    Print("median", (Median(rows.Select(r => r.Ours)), Median(rows.Select(r => r.Gzip)), Median(rows.Select(r => r.Pigz))));
    Console.WriteLine($"ratios of medians; per-run ratios median: ours/gzip {Median(rows.Select(r => r.Ours / r.Gzip)):F2}, ours/pigz {Median(rows.Select(r => r.Ours / r.Pigz)):F2}");
    Console.WriteLine($"of ours, in Nix (evaluate, realise, report the graph): median {Median(nixSeconds):F2} s");
    Console.WriteLine($"load average after: {LoadAverage()}");
    return 0;

    async Task<(double Seconds, long LayerBytes)> BuildAllAsync(string storage)
    {
        var backend = new FileSystemStorage(storage);
        var store = new RegistryStore(backend);
        var popularity = new PopularitySource(new PopularityStore(backend), new PopularitySourceOptions(Popularity.Empty, TimeSpan.Zero), TimeProvider.System, NullLogger<PopularitySource>.Instance);
        var options = new ImageBuilderOptions(LayerBudget.Default, TimeSpan.FromMinutes(10), concurrency);
        var layers = new LayerCache(store, new StorageLeases(backend, TimeProvider.System, NullLogger<StorageLease>.Instance), options, TimeProvider.System, NullLogger<LayerCache>.Instance);
        var builder = new ImageBuilder(
            store, layers, new BuildLedger(backend, new StatusOptions(), TimeProvider.System), nix, new StableLayerGrouper(), options,
            TimeProvider.System, NullLogger<ImageBuilder>.Instance, popularity,
            new SourceCheckout(new SourceCheckoutOptions(Path.Combine(root, "sources")), new HttpClient(), NullLogger<SourceCheckout>.Instance),
            new NixPlatforms());
        var watch = Stopwatch.StartNew();
        foreach (var name in images)
        {
            var request = ImageRequest.FromName(name);
            var job = new BuildJob(BuildJob.CurrentVersion, Guid.NewGuid().ToString("N"), ImageKeys.For(request, source), request, source);
            if (await builder.BuildAsync(job, CancellationToken.None) is not ImageBuilt)
            {
                throw new InvalidOperationException($"image {name} did not build");
            }
        }

        var seconds = watch.Elapsed.TotalSeconds;
        var blobs = new DirectoryInfo(Path.Combine(storage, "blobs")).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        return (seconds, blobs);
    }

    async Task<(double Seconds, long Size)> ReferenceAsync(string compressor, string folder)
    {
        Directory.CreateDirectory(folder);
        var output = Path.Combine(folder, compressor.Split(' ')[0] + ".tar.gz");
        var list = Path.Combine(folder, "paths.txt");
        await File.WriteAllLinesAsync(list, paths);
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"set -o pipefail; tar -c --sort=name -f - -T '{list}' 2>/dev/null | {compressor} > '{output}' && sync '{output}'");
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var seconds = watch.Elapsed.TotalSeconds;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"tar | {compressor} exited {process.ExitCode}: {stderr}");
        }

        var size = new FileInfo(output).Length;
        File.Delete(output);
        return (seconds, size);
    }
}
finally
{
    Directory.Delete(root, recursive: true);
}

static void Print(string label, (double Ours, double Gzip, double Pigz) row) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{label,-7}{row.Ours,10:F2}{row.Gzip,12:F2}{row.Pigz,12:F2}{row.Ours / row.Gzip,12:F2}{row.Ours / row.Pigz,12:F2}"));

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

static long TreeBytes(string path)
{
    if (File.Exists(path))
    {
        return new FileInfo(path).Length;
    }

    var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
    return new DirectoryInfo(path).EnumerateFiles("*", options).Sum(f => f.Length);
}

/// <summary>Passes through to Nix and keeps every store path of the graphs it reported.</summary>
internal sealed class RecordingNix(INixClient inner) : INixClient
{
    public List<string> Paths { get; } = [];

    /// <summary>Time spent in Nix (evaluating and realising), summed over every call.</summary>
    public TimeSpan Spent { get; private set; }

    public async Task<PrepareResult> PrepareAsync(PrepareRequest request, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var result = await inner.PrepareAsync(request, cancellationToken);
        Spent += watch.Elapsed;
        if (result is Prepared prepared)
        {
            lock (Paths)
            {
                Paths.AddRange(prepared.Graph.Paths.Select(p => p.Path));
            }
        }

        return result;
    }
}
