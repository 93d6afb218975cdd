// The package scripts/publish makes for Azure Functions (issue 6, "done when" 2): it holds
// host.json, the function definitions, the app and its Nix expressions, and the app started
// exactly as the Functions host starts a custom handler (host.json's executable, arguments
// and working directory; FUNCTIONS_CUSTOMHANDLER_PORT and FUNCTIONS_WORKER_RUNTIME; the
// host's own environment inherited) serves a skopeo pull end to end on the embedded
// storage, through FunctionsHostShim, which routes by the package's function.json files.
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text.Json;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests.Deploy;

[Collection(PublishCollection.Name)]
public sealed class FunctionsPackageTests(PublishedPackages published)
{
    private static string FunctionsDir => Path.Combine(RepoPaths.Root, "deploy", "functions");

    [Fact]
    [SupportedOSPlatform("linux")]
    public void PackageHoldsHostJsonTheFunctionDefinitionsTheAppAndItsNixExpressions()
    {
        var package = published.FunctionApp;
        var functions = Directory.GetDirectories(FunctionsDir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(["failures", "landing", "registry", "registry-base"], functions);
        AssertSameFile(Path.Combine(RepoPaths.Root, "host.json"), Path.Combine(package, "host.json"));
        foreach (var function in functions)
        {
            AssertSameFile(Path.Combine(FunctionsDir, function!, "function.json"), Path.Combine(package, function!, "function.json"));
        }

        AssertSameFile(Path.Combine(RepoPaths.NixDir, "prepare-image.nix"), Path.Combine(package, "nix", "prepare-image.nix"));
        Assert.True(File.Exists(Path.Combine(package, "Nixery.Functions.dll")), "the package has no Nixery.Functions.dll");
        // Self-contained: the Functions host's image has no .NET 10 runtime to lend the app.
        Assert.True(File.Exists(Path.Combine(package, "libcoreclr.so")), "the package is not self-contained (no libcoreclr.so)");
        var appHost = Path.Combine(package, "Nixery.Functions");
        Assert.True(
            (File.GetUnixFileMode(appHost) & UnixFileMode.UserExecute) != 0,
            $"{appHost} (host.json defaultExecutablePath) is not executable");
    }

    [Fact]
    public void ZipHoldsThePackageAndKeepsTheAppHostExecutable()
    {
        using var zip = ZipFile.OpenRead(published.FunctionAppZip);
        var entries = zip.Entries.Where(e => !e.FullName.EndsWith('/')).Select(e => e.FullName).Order(StringComparer.Ordinal);
        var files = Directory.GetFiles(published.FunctionApp, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(published.FunctionApp, f)).Order(StringComparer.Ordinal);

        Assert.Equal(files, entries);
        var mode = zip.GetEntry("Nixery.Functions")!.ExternalAttributes >> 16;
        Assert.True((mode & 0b001_001_001) != 0, $"Nixery.Functions is stored with mode {Convert.ToString(mode & 0x1FF, 8)}: not executable");
    }

    [Fact]
    public async Task PackagedAppStartedAsTheFunctionsHostStartsItServesAPullThroughTheFunctionRoutes()
    {
        using var work = new TempDir("nixery-functions-package");
        using var hostJson = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(published.FunctionApp, "host.json")));
        var description = hostJson.RootElement.GetProperty("customHandler").GetProperty("description");
        var executable = Path.Combine(published.FunctionApp, description.GetProperty("defaultExecutablePath").GetString()!);
        var arguments = description.GetProperty("arguments").EnumerateArray().Select(a => a.GetString()!).ToList();
        var workingDirectory = Path.Combine(published.FunctionApp, description.GetProperty("workingDirectory").GetString()!);
        var port = FreePort();
        var environment = new Dictionary<string, string>
        {
            // What the Functions host gives its custom handler.
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = $"{port}",
            ["FUNCTIONS_WORKER_RUNTIME"] = "custom",
            // The host is an ASP.NET Core process; its own URL settings reach the handler too.
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePort()}",
            // The embedded storage of this machine; the Nix expressions are the package's own.
            ["STORAGE_PATH"] = work.Combine("storage"),
            ["NIXERY_PKGS_PATH"] = RepoPaths.PackageSetDir,
            ["NIX_TIMEOUT"] = "600",
        };

        await using var app = ServiceProcess.Start("packaged HTTP app", executable, arguments, environment, workingDirectory);
        await app.WaitForLineAsync($"Now listening on: http://0\\.0\\.0\\.0:{port}$", TimeSpan.FromMinutes(1));
        using var direct = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        using var baseEndpoint = await direct.GetAsync("v2/");
        Assert.Equal(HttpStatusCode.OK, baseEndpoint.StatusCode);

        await using var host = await FunctionsHostShim.StartAsync(
            Path.Combine(published.FunctionApp, "host.json"), published.FunctionApp, new Uri($"http://127.0.0.1:{port}/"));
        var oci = work.Combine("oci-shell");
        (await Clients.SkopeoCopyAsync(host.HostPort, "shell:latest", oci)).EnsureSuccess("skopeo copy through the function routes");

        var storePaths = new List<string>();
        foreach (var digest in Clients.OciLayerDigests(oci))
        {
            storePaths.AddRange(await Clients.StorePathsInLayerAsync(oci, digest));
        }

        Assert.Contains(storePaths, p => p.Contains("-bash-", StringComparison.Ordinal));
        Assert.Matches($"storage .*; port {port}", app.Log);
    }

    private static void AssertSameFile(string expected, string actual)
    {
        Assert.True(File.Exists(actual), $"the package has no {actual}");
        Assert.True(File.ReadAllBytes(expected).AsSpan().SequenceEqual(File.ReadAllBytes(actual)), $"{actual} differs from {expected}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
