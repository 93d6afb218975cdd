// One Azurite blob service per test class (an xunit class fixture) for the Azure Blob backend
// tests; each test then takes a fresh container from it. Private to Core.Tests because this
// project does not reference tests/TestSupport (which pulls in the HTTP app), as
// Queue/AzuriteQueueFixture is; tests/TestSupport/Azurite.cs starts the same binary the same
// way for the tests that run the whole registry. Azurite binds port 0 and prints the port it
// got, so there is no gap in which another process could take a port chosen in advance.
// A missing Azurite fails with the command that installs it instead of skipping.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs;

namespace Nixery.Core.Tests.Storage;

public sealed partial class AzureBlobFixture : IAsyncLifetime
{
    /// <summary>Azurite's well-known development account (public, documented by Microsoft).</summary>
    public const string AccountName = "devstoreaccount1";

    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly StringBuilder _output = new();
    private Process? _process;

    public int BlobPort { get; private set; }

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{BlobPort}/{AccountName};";

    /// <summary>A client for a container no other test uses (not created yet).</summary>
    public BlobContainerClient NewContainer() => new(ConnectionString, "t" + Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync()
    {
        var root = FindRoot();
        var binary = Path.Combine(root, ".state", "azurite", "node_modules", ".bin", "azurite-blob");
        if (!File.Exists(binary))
        {
            throw new InvalidOperationException($"Azurite is missing ({binary}): run scripts/setup (as root) from {root} first.");
        }

        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var arg in new[] { "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry", "--blobHost", "127.0.0.1", "--blobPort", "0" })
        {
            start.ArgumentList.Add(arg);
        }

        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data, listening);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data, listening);
        _process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("Azurite exited before listening"));
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        try
        {
            // A cap on a hung start, not a readiness poll: readiness is the "listening" line.
            BlobPort = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            await DisposeAsync();
            throw new InvalidOperationException($"Azurite ({binary}) did not report its blob service listening within 60 s ({e.Message}); its output:\n{Output}", e);
        }
    }

    public async Task DisposeAsync()
    {
        if (_process is null)
        {
            return;
        }

        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    private string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    private void OnLine(string? line, TaskCompletionSource<int> listening)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (Listening().Match(line) is { Success: true } match)
        {
            listening.TrySetResult(int.Parse(match.Groups["port"].Value, CultureInfo.InvariantCulture));
        }
    }

    // azurite-blob: "Azurite Blob service successfully listens on http://127.0.0.1:43563";
    // azurite (all services): "Azurite Blob service is successfully listening at http://…".
    [GeneratedRegex(@"Azurite Blob service (?:is )?successfully listen(?:s|ing) (?:on|at) https?://[^:/]+:(?<port>\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex Listening();

    private static string FindRoot()
    {
        if (Environment.GetEnvironmentVariable("NIXERY_REPO_ROOT") is { Length: > 0 } overridden)
        {
            return Path.GetFullPath(overridden);
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Nixery.sln")) || File.Exists(Path.Combine(dir.FullName, "global.json")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Nixery.sln or global.json above {AppContext.BaseDirectory}; run the tests from inside the repository.");
    }
}
