// One Azurite queue service for the Azure queue tests: in-memory persistence, given port 0
// and ready when it prints the port it bound ("… successfully listens on http://127.0.0.1:<port>"),
// so no other process can take the port between choosing and binding it. Private to
// Core.Tests because this project does not reference tests/TestSupport (which pulls in the
// HTTP app); TestSupport's Azurite starts the same installation the same way. A missing
// Azurite fails the tests with the command that installs it instead of skipping them: a
// skipped test looks green.
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Azure.Storage.Queues;

namespace Nixery.Core.Tests.Queue;

public sealed partial class AzuriteQueueFixture : IAsyncLifetime
{
    // Azurite's well-known development account (public, documented by Microsoft).
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly StringBuilder _output = new();
    private Process? _process;

    public string ConnectionString { get; private set; } = "";

    public int QueuePort { get; private set; }

    public QueueServiceClient Service => new(ConnectionString);

    public async Task InitializeAsync()
    {
        var root = FindRoot();
        var binary = Path.Combine(root, ".state", "azurite", "node_modules", ".bin", "azurite-queue");
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
        foreach (var arg in new[] { "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry", "--queueHost", "127.0.0.1", "--queuePort", "0" })
        {
            start.ArgumentList.Add(arg);
        }

        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(e.Data);
            }

            if (Listening().Match(e.Data) is { Success: true } match)
            {
                listening.TrySetResult(int.Parse(match.Groups["port"].Value));
            }
        };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_output) { _output.AppendLine(e.Data); } } };
        _process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"Azurite exited before listening:\n{Output}"));
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        try
        {
            // A cap on a hung start, not a readiness poll: readiness is the line naming the bound port.
            QueuePort = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            await DisposeAsync();
            throw new InvalidOperationException($"Azurite did not report listening within 60 s:\n{Output}");
        }

        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;";
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
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

    // azurite-queue 3.37 prints "Azurite Queue service successfully listens on http://127.0.0.1:36851".
    [GeneratedRegex(@"Queue service (?:is )?successfully listen(?:s|ing) (?:on|at) https?://[^:/]+:(?<port>\d+)", RegexOptions.CultureInvariant)]
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

[CollectionDefinition(Name)]
public sealed class AzuriteQueueCollection : ICollectionFixture<AzuriteQueueFixture>
{
    public const string Name = "Azurite queue";
}
