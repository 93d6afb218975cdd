// Prepares an image's packages with the Nix command-line tools. The protocol:
//
//   1. evaluate   nix-instantiate --eval --strict --json --read-write-mode nix/prepare-image.nix
//                   --argstr packages '["bash","git"]' --argstr srcPath <set> --argstr system <system>
//                 → {"error":"not_found","pkgs":[…]}            → PackagesNotFound (no build)
//                 → {"drvs":[…],"outs":[…],"names":[…],"licenses":{…}}   (drvs written to the store)
//   2. realise    nix-store --realise <drvs>                       build log streamed to the logger
//   3. graph      nix path-info --json --recursive --closure-size <outs>
//                 → RuntimeGraph, with LinkRoots from the set's nixery.json (linkClosure)
//
// The three steps share one deadline (NixOptions.Timeout); passing it kills the running
// command's process tree and throws NixException(Timeout). Nix is evaluated, not asked to
// build a graph-reporting derivation as Nixery does, so no nixpkgs (coreutils) is needed
// and the build log reaches the worker's log while it happens.
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Nixery.Core.Telemetry;

namespace Nixery.Builder.Nix;

public sealed partial class NixClient : INixClient
{
    private const string PrepareImageFile = "prepare-image.nix";

    private readonly NixOptions options;
    private readonly ILogger<NixClient> logger;

    public NixClient(NixOptions options, ILogger<NixClient> logger)
    {
        this.options = options;
        this.logger = logger;
    }

    public async Task<PrepareResult> PrepareAsync(PrepareRequest request, CancellationToken cancellationToken)
    {
        var expression = Path.Combine(Path.GetFullPath(options.NixExpressionsPath), PrepareImageFile);
        if (!File.Exists(expression))
        {
            throw new FileNotFoundException($"{PrepareImageFile} not found in NixExpressionsPath '{options.NixExpressionsPath}'", expression);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Timeout);
        var tail = new NixLogTail();
        var clock = Stopwatch.StartNew();
        try
        {
            var result = await PrepareCoreAsync(expression, request, tail, deadline.Token);
            logger.LogInformation("Prepared {Packages} in {ElapsedMs} ms: {Result}", string.Join(',', request.Packages), clock.ElapsedMilliseconds, result.GetType().Name);
            return result;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new NixException(
                NixFailureKind.Timeout,
                $"Nix did not finish preparing {string.Join(", ", request.Packages)} within the timeout of {options.Timeout.TotalSeconds:0.###} s",
                tail.Snapshot());
        }
    }

    private async Task<PrepareResult> PrepareCoreAsync(string expression, PrepareRequest request, NixLogTail tail, CancellationToken token)
    {
        var packagesJson = JsonSerializer.Serialize(request.Packages.ToList(), NixJsonContext.Default.ListString);
        using var evaluating = RegistryTelemetry.StartPhase("nix evaluate", "evaluate");
        var evaluation = await NixProcess.RunAsync(
            "nix-instantiate",
            [
                "--eval", "--strict", "--json", "--read-write-mode", expression,
                "--argstr", "packages", packagesJson,
                "--argstr", "srcPath", Path.GetFullPath(request.PackageSetPath),
                "--argstr", "system", request.System,
            ],
            tail, logger, token);
        if (evaluation.ExitCode != 0)
        {
            throw Failure(NixFailureKind.EvaluationFailed, $"evaluating {string.Join(", ", request.Packages)} in {request.PackageSetPath} failed", tail);
        }

        var output = Parse(evaluation.Stdout, NixJsonContext.Default.PrepareOutput, "nix-instantiate", tail);
        evaluating.Dispose();
        if (output.Error is not null)
        {
            if (output.Error != "not_found")
            {
                throw Failure(NixFailureKind.EvaluationFailed, $"prepare-image.nix reported error '{output.Error}'", tail);
            }

            return new PackagesNotFound(output.Pkgs ?? []);
        }

        using var realising = RegistryTelemetry.StartPhase("nix realise", "realise");
        var drvs = (output.Drvs ?? []).Distinct(StringComparer.Ordinal).ToList();
        var topLevel = (output.Outs ?? []).Distinct(StringComparer.Ordinal).ToList();
        if (drvs.Count > 0)
        {
            string? failed = null;
            tail.Watch = line =>
            {
                var match = FailedBuilder().Match(line);
                if (match.Success)
                {
                    failed ??= match.Groups[1].Value;
                }
            };
            var realise = await NixProcess.RunAsync("nix-store", ["--realise", .. drvs], tail, logger, token);
            tail.Watch = null;
            if (realise.ExitCode != 0)
            {
                var packages = string.Join(", ", request.Packages);
                // Nix's own sentence names the builder and how it ended ("error: builder for
                // '…drv' failed with exit code 3"); quote it rather than say the same thing twice.
                var said = failed is null ? null : tail.Snapshot().LastOrDefault(l => l.StartsWith("error: ", StringComparison.Ordinal) && l.Contains(failed, StringComparison.Ordinal));
                if (said is not null)
                {
                    throw new NixException(NixFailureKind.BuildFailed, $"{said["error: ".Length..]} while building {packages}", tail.Snapshot());
                }

                var message = failed is null ? $"building {packages} failed" : $"builder for '{failed}' failed while building {packages}";
                throw Failure(NixFailureKind.BuildFailed, message, tail);
            }
        }

        var graph = topLevel.Count == 0 ? new RuntimeGraph([]) : await ReadGraphAsync(topLevel, tail, token);
        var linkRoots = PackageSetInfo.Load(request.PackageSetPath).LinkClosure
            ? [.. topLevel, .. graph.Paths.Select(p => p.Path).Where(p => !topLevel.Contains(p, StringComparer.Ordinal))]
            : topLevel;
        var licenses = (output.Licenses ?? []).ToDictionary(
            l => l.Key,
            l => (IReadOnlyList<PackageLicense>)[.. l.Value.Where(x => x.SpdxId is not null || x.Name is not null).Select(x => new PackageLicense(x.SpdxId, x.Name))],
            StringComparer.Ordinal);
        return new Prepared(graph, topLevel, linkRoots, licenses);
    }

    private async Task<RuntimeGraph> ReadGraphAsync(IReadOnlyList<string> outs, NixLogTail tail, CancellationToken token)
    {
        var run = await NixProcess.RunAsync(
            "nix",
            ["--extra-experimental-features", "nix-command", "path-info", "--json", "--recursive", "--closure-size", .. outs],
            tail, logger, token);
        if (run.ExitCode != 0)
        {
            throw Failure(NixFailureKind.EvaluationFailed, "reading the runtime graph with nix path-info failed", tail);
        }

        List<StorePathInfo> paths;
        try
        {
            paths = ParsePathInfo(run.Stdout);
        }
        catch (JsonException e)
        {
            throw new NixException(NixFailureKind.EvaluationFailed, $"nix path-info printed JSON this client does not understand: {e.Message}", tail.Snapshot(), e);
        }

        paths.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return new RuntimeGraph(paths);
    }

    /// <summary>Accepts both path-info shapes: Nix 2.8's array and newer Nix's object keyed by path.</summary>
    internal static List<StorePathInfo> ParsePathInfo(string json)
    {
        using var document = JsonDocument.Parse(json);
        var entries = new List<(string Path, PathInfoJson Info)>();
        if (document.RootElement.ValueKind == JsonValueKind.Array)
        {
            foreach (var info in document.RootElement.Deserialize(NixJsonContext.Default.ListPathInfoJson) ?? [])
            {
                entries.Add((info.Path ?? throw new JsonException("a path-info entry has no \"path\""), info));
            }
        }
        else
        {
            foreach (var (path, info) in document.RootElement.Deserialize(NixJsonContext.Default.DictionaryStringPathInfoJson) ?? [])
            {
                entries.Add((path, info));
            }
        }

        return entries
            .Where(e => e.Info.Valid != false)
            .Select(e => new StorePathInfo(
                e.Path,
                (e.Info.References ?? []).Order(StringComparer.Ordinal).ToList(),
                e.Info.NarSize,
                e.Info.ClosureSize,
                e.Info.NarHash))
            .ToList();
    }

    private static T Parse<T>(string json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string command, NixLogTail tail)
    {
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new NixException(NixFailureKind.EvaluationFailed, $"{command} printed JSON this client does not understand: {e.Message}", tail.Snapshot(), e);
        }
    }

    private static NixException Failure(NixFailureKind kind, string message, NixLogTail tail)
    {
        var lines = tail.Snapshot();
        var last = lines.LastOrDefault(l => l.StartsWith("error:", StringComparison.Ordinal));
        return new NixException(kind, last is null ? message : $"{message}: {last}", lines);
    }

    // Nix 2.8: "error: builder for '/nix/store/…-x.drv' failed with exit code 1";
    // newer Nix: "error: builder for '/nix/store/…-x.drv' failed with exit code 1;" too.
    [GeneratedRegex(@"builder for '(/nix/store/[^']+\.drv)' failed")]
    private static partial Regex FailedBuilder();
}
