// The build function app's `popularity` command: computes popularity data (Nixery's popcount) for
// the layer grouper and writes it to a file and, with --store, into the registry's storage.
//
//   dotnet Nixery.Worker.dll popularity --package-set <dir> [--binary-cache file:///path | <dir>]
//                                        [--out <file>] [--store]
//
//   --package-set   the package set (a folder with default.nix, as NIXERY_PKGS_PATH)
//   --binary-cache  read every *.narinfo of this binary cache (as `nix copy --to file://…`
//                   writes it) instead of building: StorePath and References lines
//   --out           where to write the JSON (at least one of --out and --store is required)
//   --store         also write it to popularity/computed.json in the registry's storage, as
//                   the settings of the process running the command name it
//                   (NIXERY_STORAGE_BACKEND, STORAGE_PATH or the Azure settings), where every
//                   worker picks it up (PopularitySource)
//
// Without --binary-cache the package set's top-level derivations are listed with
// nix/list-packages.nix, realised (nix-store --realise --keep-going) and their closure graph
// is read with `nix path-info --json --recursive`. Either way the output is
// {"<package name>": count, …}, sorted by name: for each package name (a store path without
// /nix/store/<hash>-), how many other store paths refer to it directly. Progress goes to
// stdout; exit code 0 on success, 1 when Nix or storage fails, 2 for a usage error.
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Nixery.Builder.Nix;
using Nixery.Core.Storage;

namespace Nixery.Builder.PopularityData;

public static class PopularityCommand
{
    public const string Name = "popularity";

    private const string Usage =
        "usage: popularity --package-set <dir> [--binary-cache file:///path | <dir>] [--out <file>] [--store]";

    /// <param name="store">Writes computed.json into the registry's storage, as the host that runs
    /// the command configures it; returns the error message, or null on success.</param>
    /// <param name="nixExpressionsPath">Where list-packages.nix is; default NIXERY_NIX_PATH, else nix/ beside the app.</param>
    public static async Task<int> RunAsync(
        string[] args,
        TextWriter output,
        TextWriter error,
        Func<byte[], CancellationToken, Task<string?>> store,
        CancellationToken ct,
        string? nixExpressionsPath = null)
    {
        string? packageSet = null, binaryCache = null, outFile = null;
        var toStorage = false;
        for (var i = 0; i < args.Length; i++)
        {
            string? Value() => i + 1 < args.Length ? args[++i] : null;
            switch (args[i])
            {
                case "--package-set":
                    packageSet = Value();
                    break;
                case "--binary-cache":
                    binaryCache = Value();
                    break;
                case "--out":
                    outFile = Value();
                    break;
                case "--store":
                    toStorage = true;
                    break;
                default:
                    await error.WriteLineAsync($"popularity: unknown argument '{args[i]}'\n{Usage}");
                    return 2;
            }
        }

        if ((packageSet is null && binaryCache is null) || (outFile is null && !toStorage))
        {
            await error.WriteLineAsync($"popularity: give --package-set or --binary-cache, and --out or --store\n{Usage}");
            return 2;
        }

        SortedDictionary<string, int> counts;
        try
        {
            if (binaryCache is not null)
            {
                var dir = binaryCache.StartsWith("file://", StringComparison.Ordinal) ? new Uri(binaryCache).LocalPath : binaryCache;
                if (!Directory.Exists(dir))
                {
                    await error.WriteLineAsync($"popularity: binary cache folder {dir} does not exist");
                    return 2;
                }

                await output.WriteLineAsync($"popularity: reading *.narinfo in {dir}");
                var entries = PopularityCounter.ReadBinaryCache(dir);
                await output.WriteLineAsync($"popularity: {entries.Count} store paths in the binary cache");
                counts = PopularityCounter.CountDirectReferences(entries);
            }
            else
            {
                if (!File.Exists(Path.Combine(packageSet!, "default.nix")))
                {
                    await error.WriteLineAsync($"popularity: {packageSet} has no default.nix");
                    return 2;
                }

                var graph = await PackageSetGraphAsync(packageSet!, nixExpressionsPath ?? NixExpressionsPath(), output, ct);
                counts = PopularityCounter.CountDirectReferences(graph.Select(p => (p.Path, (IEnumerable<string>)p.References)));
            }
        }
        catch (Exception e) when (e is NixException or FormatException or IOException or JsonException)
        {
            await error.WriteLineAsync($"popularity: {e.Message}");
            if (e is NixException nix)
            {
                foreach (var line in nix.LogTail)
                {
                    await error.WriteLineAsync("  " + line);
                }
            }

            return 1;
        }

        await output.WriteLineAsync($"popularity: {counts.Count} package names; most referenced: {PopularityCounter.Describe(counts, 10)}");
        var json = PopularityCounter.ToJson(counts);
        if (outFile is not null)
        {
            await File.WriteAllBytesAsync(outFile, json, ct);
            await output.WriteLineAsync($"popularity: wrote {outFile}");
        }

        if (toStorage)
        {
            string? stored;
            try
            {
                stored = await store(json, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                stored = $"writing {StorageLayout.ComputedPopularity} to the registry's storage failed: {e.Message}";
            }

            await (stored is null ? output : error).WriteLineAsync(stored is null
                ? $"popularity: wrote {StorageLayout.ComputedPopularity} to the registry's storage"
                : $"popularity: {stored}");
            if (stored is not null)
            {
                return 1;
            }
        }

        return 0;
    }

    /// <summary>Lists, realises and reads the closure graph of the set's top-level derivations.</summary>
    internal static async Task<List<StorePathInfo>> PackageSetGraphAsync(string packageSet, string nixExpressions, TextWriter output, CancellationToken ct)
    {
        var logger = NullLogger.Instance;
        var tail = new NixLogTail();
        var setPath = Path.GetFullPath(packageSet);
        var system = PackageSetInfo.Load(setPath).System;
        var list = await NixProcess.RunAsync(
            "nix-instantiate",
            ["--eval", "--strict", "--json", "--read-write-mode", Path.Combine(Path.GetFullPath(nixExpressions), "list-packages.nix"),
             "--argstr", "srcPath", setPath, "--argstr", "system", system],
            tail, logger, ct);
        if (list.ExitCode != 0)
        {
            throw new NixException(NixFailureKind.EvaluationFailed, $"listing the packages of {setPath} failed", tail.Snapshot());
        }

        var packages = new List<(string Drv, string Out)>();
        using (var document = JsonDocument.Parse(list.Stdout))
        {
            foreach (var entry in document.RootElement.EnumerateArray())
            {
                packages.Add((entry.GetProperty("drv").GetString()!, entry.GetProperty("out").GetString()!));
            }
        }

        var drvs = packages.Select(p => p.Drv).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        await output.WriteLineAsync($"popularity: {packages.Count} top-level packages in {setPath} ({drvs.Count} derivations); realising them");
        var realise = await NixProcess.RunAsync("nix-store", ["--realise", "--keep-going", .. drvs], tail, logger, ct);
        var outs = packages.Select(p => p.Out).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Where(Path.Exists).ToList();
        if (realise.ExitCode != 0)
        {
            var lines = tail.Snapshot();
            await output.WriteLineAsync($"popularity: some packages failed to build; counting the {outs.Count} that exist ({(lines.Count > 0 ? lines[^1] : "")})");
        }

        if (outs.Count == 0)
        {
            throw new NixException(NixFailureKind.BuildFailed, $"no package of {setPath} could be realised", tail.Snapshot());
        }

        await output.WriteLineAsync($"popularity: reading the closure graph of {outs.Count} packages");
        var info = await NixProcess.RunAsync(
            "nix", ["--extra-experimental-features", "nix-command", "path-info", "--json", "--recursive", .. outs], tail, logger, ct);
        if (info.ExitCode != 0)
        {
            throw new NixException(NixFailureKind.EvaluationFailed, "reading the closure graph with nix path-info failed", tail.Snapshot());
        }

        var graph = NixClient.ParsePathInfo(info.Stdout);
        await output.WriteLineAsync($"popularity: {graph.Count} store paths in the closure");
        return graph;
    }

    private static string NixExpressionsPath() =>
        Environment.GetEnvironmentVariable("NIXERY_NIX_PATH") is { Length: > 0 } configured ? configured : Path.Combine(AppContext.BaseDirectory, "nix");
}
