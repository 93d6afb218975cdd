// Storage round trips of the worker (issue 16, point 5): how many storage calls a build makes
// per layer, and what they cost when each one is slow. See ./run for what it prints.
//
//   calls     ImageBuilder.BuildAsync of IMAGE on empty storage (cold), then of WARM on the
//             same storage (most layers reused), on filesystem storage and on Azurite, each
//             through CountingStorage (tests/TestSupport), and on Azurite also through an
//             Azure SDK pipeline policy that counts HTTP requests (AzureRequestLog in tests/TestSupport). Status
//             writes are spaced by the clock (BuildAttempt), so they are shown apart.
//   latency   cold builds of IMAGE on Azurite, alternately straight and through LatencyProxy,
//             each on a fresh container so that nothing is reused; the ratio is taken pair
//             by pair, so drift in the machine's load touches both alike.
// The Nix store is warm (one untimed build first); only ratios mean anything across machines.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Azure.Core;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging.Abstractions;
using Nixery.Bench.Latency;
using Nixery.Builder.Images;
using Nixery.Builder.Layers;
using Nixery.Builder.Nix;
using Nixery.Builder.PopularityData;
using Nixery.Builder.Sources;
using Nixery.Core.Azure;
using Nixery.Core.Builds;
using Nixery.Core.Manifests;
using Nixery.Core.Names;
using Nixery.Core.Options;
using Nixery.Core.Queue;
using Nixery.Core.Sources;
using Nixery.Core.Storage;
using Nixery.TestSupport;

var runs = 3;
var delay = TimeSpan.FromMilliseconds(300);
string? only = null;
var images = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--delay-ms": delay = TimeSpan.FromMilliseconds(int.Parse(args[++i], CultureInfo.InvariantCulture)); break;
        case "--only": only = args[++i]; break;
        default: images.Add(args[i]); break;
    }
}

var image = images.ElementAtOrDefault(0) ?? "shell/git";
var warmImage = images.ElementAtOrDefault(1) ?? "shell/git/curl";
using var temp = new TempDir("nixery-latency-bench");
var source = new PackageSource("path", RepoPaths.PackageSetDir, PathSource.HashTree(RepoPaths.PackageSetDir));
var nix = new NixClient(new NixOptions { NixExpressionsPath = RepoPaths.NixDir, Timeout = TimeSpan.FromMinutes(10) }, NullLogger<NixClient>.Instance);
await using var azurite = await Azurite.StartAsync();
var containers = 0;

// Warm-up: the Nix store, the evaluation cache, the JIT.
await BuildAsync(new FileSystemStorage(Path.Combine(temp.Path, "warm")), image);
await BuildAsync(new FileSystemStorage(Path.Combine(temp.Path, "warm")), warmImage);

if (only is null or "calls")
{
    Console.WriteLine($"storage calls: cold {image}, then warm {warmImage} on the same storage");
    var fs = new CountingStorage(new FileSystemStorage(Path.Combine(temp.Path, "calls")));
    await CallsAsync("filesystem", fs, null);
    var counter = new AzureRequestLog();
    var az = new CountingStorage(Azure(azurite.BlobPort, counter));
    await CallsAsync("azurite", az, counter);
}

if (only is null or "latency")
{
    await using var proxy = new LatencyProxy(new IPEndPoint(IPAddress.Loopback, azurite.BlobPort), delay);
    Console.WriteLine($"cold build of {image} on Azurite, straight and through a +{delay.TotalMilliseconds:0} ms per request proxy; {runs} runs; load average {LoadAverage()}");
    var rows = new List<(double Straight, double Proxied)>();
    for (var run = 1; run <= runs; run++)
    {
        var straight = await TimedAsync(Azure(azurite.BlobPort, null));
        var before = proxy.Requests;
        var proxied = await TimedAsync(Azure(proxy.Port, null));
        rows.Add((straight, proxied));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {run}: straight {straight:F2} s, proxied {proxied:F2} s ({proxy.Requests - before} requests), ratio {proxied / straight:F2}"));
    }

    Print("straight s", rows.Select(r => r.Straight));
    Print("proxied s", rows.Select(r => r.Proxied));
    Print("ratio", rows.Select(r => r.Proxied / r.Straight));
    Console.WriteLine($"load average after: {LoadAverage()}");
}

return 0;

async Task CallsAsync(string name, CountingStorage storage, AzureRequestLog? requests)
{
    foreach (var (label, imageName) in new[] { ("cold", image), ("warm", warmImage) })
    {
        storage.Reset();
        requests?.Take();
        var (layers, reused) = await BuildAsync(storage, imageName);
        var status = storage.In("status");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name} {label} {imageName}: {layers} layers ({reused} reused); {storage.Total} calls, {(double)storage.Total / layers:F2} per layer; without the {status} status writes {(double)(storage.Total - status) / layers:F2} per layer"));
        Console.WriteLine("  " + storage.Describe().Replace("\n", "\n  ", StringComparison.Ordinal));
        if (requests is not null)
        {
            var counted = requests.TakeByArea();
            var total = counted.Sum(c => c.Count);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  HTTP requests: {total}, {(double)total / layers:F2} per layer"));
            Console.WriteLine("    " + string.Join("\n    ", counted.Select(c => $"{c.Request}: {c.Count}")));
        }
    }
}

async Task<double> TimedAsync(IStorageBackend backend)
{
    var watch = Stopwatch.StartNew();
    await BuildAsync(backend, image);
    return watch.Elapsed.TotalSeconds;
}

// A fresh container each time: a cold build, nothing to reuse.
IStorageBackend Azure(int port, AzureRequestLog? counter)
{
    var connection = Azurite.ConnectionStringFor(port, azurite.QueuePort);
    var name = $"bench{Interlocked.Increment(ref containers)}";
    BlobClientOptions Options(BlobClientOptions options)
    {
        if (counter is not null)
        {
            options.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        }

        return options;
    }

    return AzureBlobStorage.Create(
        new BlobContainerClient(connection, name, Options(StorageCallPolicy.InteractiveBlobs())),
        TimeSpan.FromMinutes(10),
        TimeProvider.System,
        new BlobContainerClient(connection, name, Options(StorageCallPolicy.BulkBlobs())));
}

async Task<(int Layers, int Reused)> BuildAsync(IStorageBackend backend, string name)
{
    var store = new RegistryStore(backend);
    var popularity = new PopularitySource(new PopularityStore(backend), new PopularitySourceOptions(Popularity.Empty, TimeSpan.Zero), TimeProvider.System, NullLogger<PopularitySource>.Instance);
    var options = new ImageBuilderOptions(LayerBudget.Default, TimeSpan.FromMinutes(10));
    var log = new CountingLogger<LayerCache>();
    using var layerCache = new LayerCache(store, new StorageLeases(backend, TimeProvider.System, NullLogger<StorageLease>.Instance), options, TimeProvider.System, log);
    var builder = new ImageBuilder(
        store, layerCache, new BuildLedger(backend, new StatusOptions(), TimeProvider.System), nix, new StableLayerGrouper(), options,
        TimeProvider.System, NullLogger<ImageBuilder>.Instance, popularity,
        new SourceCheckout(new SourceCheckoutOptions(Path.Combine(temp.Path, "sources")), new HttpClient(), NullLogger<SourceCheckout>.Instance),
        new NixPlatforms());
    var request = ImageRequest.FromName(name);
    var job = new BuildJob(BuildJob.CurrentVersion, Guid.NewGuid().ToString("N"), ImageKeys.For(request, source), request, source);
    if (await builder.BuildAsync(job, CancellationToken.None) is not ImageBuilt built)
    {
        throw new InvalidOperationException($"image {name} did not build");
    }

    _ = Digest.TryParse(built.Image.Digest, out var digest);
    await using var manifest = await store.OpenBlobAsync(digest!.Value, CancellationToken.None);
    using var document = await JsonDocument.ParseAsync(manifest!);
    return (document.RootElement.GetProperty("layers").GetArrayLength(), log.Reused);
}

static void Print(string label, IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label,-12} min {sorted[0]:F2}  median {median:F2}  max {sorted[^1]:F2}"));
}

static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
