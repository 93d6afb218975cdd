// A private Azurite (the Azure Storage emulator) for a test class: its own process, its own
// in-memory account, its own loopback ports, so test classes and parallel runs never share
// state. scripts/setup installs the pinned version under .state/azurite. Azurite is given
// port 0 for each service and reports the port it bound ("… successfully listening at
// http://127.0.0.1:<port>"), which leaves no window for another process to take the port
// between choosing it and binding it. Readiness is read from that same output, bounded by
// a timeout that fails with everything Azurite printed.
// For the storage-fault tests (issue 16) it can also keep its account on disk (location) and
// listen on given ports, so that a test stops it and starts it again at the same endpoint with
// the same data; and it can be paused (SIGSTOP), which leaves connections open and unanswered,
// as a storage account that hangs.
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Nixery.TestSupport;

public sealed partial class Azurite : IAsyncDisposable
{
    /// <summary>The emulator's fixed development account (documented, public, not a secret).</summary>
    public const string AccountName = "devstoreaccount1";

    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _output;

    private Azurite(Process process, StringBuilder output, int blobPort, int queuePort, bool https)
    {
        _process = process;
        _output = output;
        BlobPort = blobPort;
        QueuePort = queuePort;
        Scheme = https ? "https" : "http";
    }

    /// <summary>"https" when started with a certificate (--cert/--key), else "http".</summary>
    public string Scheme { get; }

    public int BlobPort { get; }

    public int QueuePort { get; }

    public Uri BlobEndpoint => new($"{Scheme}://127.0.0.1:{BlobPort}/{AccountName}");

    public Uri QueueEndpoint => new($"{Scheme}://127.0.0.1:{QueuePort}/{AccountName}");

    public string ConnectionString =>
        $"DefaultEndpointsProtocol={Scheme};AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint={BlobEndpoint};QueueEndpoint={QueueEndpoint};";

    /// <summary>What Azurite printed so far, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Two free loopback ports for a blob and a queue service that is not running yet
    /// (a port is free when we let it go; nothing else on this machine takes ports this way).</summary>
    public static (int Blob, int Queue) FreePorts()
    {
        var blob = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        var queue = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        blob.Start();
        queue.Start();
        var ports = (((System.Net.IPEndPoint)blob.LocalEndpoint).Port, ((System.Net.IPEndPoint)queue.LocalEndpoint).Port);
        blob.Stop();
        queue.Stop();
        return ports;
    }

    /// <summary>The connection string of an Azurite on these ports, whether or not it runs.</summary>
    public static string ConnectionStringFor(int blobPort, int queuePort) =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{blobPort}/{AccountName};QueueEndpoint=http://127.0.0.1:{queuePort}/{AccountName};";

    /// <summary>Starts Azurite on the given ports with its account kept in the folder
    /// <paramref name="location"/>, so that another start there has the same data.</summary>
    public static Task<Azurite> StartAtAsync(int blobPort, int queuePort, string location) =>
        StartAsync(null, blobPort, queuePort, location);

    /// <summary>Stops the service as SIGTERM does (Azurite saves its metadata and closes its
    /// ports) and waits for the process to end.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            await SignalAsync("TERM");
            await _process.WaitForExitAsync().WaitAsync(StartTimeout);
        }
    }

    /// <summary>SIGSTOP: the ports stay open and the kernel still accepts connections, but no
    /// request is answered until <see cref="ResumeAsync"/>: a storage account that hangs.</summary>
    public Task PauseAsync() => SignalAsync("STOP");

    /// <summary>SIGCONT after <see cref="PauseAsync"/>.</summary>
    public Task ResumeAsync() => SignalAsync("CONT");

    /// <summary>kill(1) with <paramref name="signal"/> to this Azurite (no ProcessRunner: this file
    /// is also compiled into the host emulator's tests on its own).</summary>
    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} exited with {kill.ExitCode}");
        }
    }

    /// <summary>Starts Azurite; <paramref name="extraArguments"/> are added to its command line
    /// (e.g. "--oauth basic --cert … --key …", which also makes the endpoints https).</summary>
    public static Task<Azurite> StartAsync(IReadOnlyList<string>? extraArguments = null) =>
        StartAsync(extraArguments, 0, 0, null);

    private static async Task<Azurite> StartAsync(IReadOnlyList<string>? extraArguments, int blobPort, int queuePort, string? location)
    {
        var https = extraArguments?.Contains("--cert") ?? false;
        var executable = Path.Combine(RepoPaths.StateDir, "azurite", "node_modules", ".bin", "azurite");
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"Azurite is not installed at {executable}: run scripts/setup (as root) from {RepoPaths.Root} first.");
        }

        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        // Azurite cannot leave the table service out, so it gets a free port like the others.
        string[] persistence = location is null ? ["--inMemoryPersistence"] : ["--location", location];
        foreach (var arg in persistence.Concat(
        [
            "--skipApiVersionCheck", "--loose", "--disableTelemetry", "--silent",
            "--blobHost", "127.0.0.1", "--blobPort", blobPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--queueHost", "127.0.0.1", "--queuePort", queuePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tableHost", "127.0.0.1", "--tablePort", "0",
        ]))
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var arg in extraArguments ?? [])
        {
            start.ArgumentList.Add(arg);
        }

        var output = new StringBuilder();
        var blob = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var queue = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => OnLine(e.Data, output, blob, queue);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data, output, blob, queue);
        process.Exited += (_, _) =>
        {
            blob.TrySetException(new InvalidOperationException("Azurite exited before it was ready"));
            queue.TrySetException(new InvalidOperationException("Azurite exited before it was ready"));
        };
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {executable}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // A cap on a hung start, not a readiness poll: readiness is the "listening" lines.
            var ports = await Task.WhenAll(blob.Task, queue.Task).WaitAsync(StartTimeout);
            return new Azurite(process, output, ports[0], ports[1], https);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            // Stopping it first also drains its output, so the message below is complete.
            var failed = new Azurite(process, output, 0, 0, https);
            await failed.DisposeAsync();
            var why = e is TimeoutException ? $"did not report its blob and queue services listening within {StartTimeout.TotalSeconds:0} s" : e.Message;
            throw new InvalidOperationException($"Azurite ({executable}) {why}; its output:\n{failed.Output}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
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
    }

    private static void OnLine(string? line, StringBuilder output, TaskCompletionSource<int> blob, TaskCompletionSource<int> queue)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            // Bounded: with --silent Azurite prints little, but a test run can be long.
            if (output.Length < 64 * 1024)
            {
                output.AppendLine(line);
            }
        }

        var match = Listening().Match(line);
        if (match.Success)
        {
            var port = int.Parse(match.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);
            (match.Groups["service"].Value == "Blob" ? blob : match.Groups["service"].Value == "Queue" ? queue : null)?.TrySetResult(port);
        }
    }

    // azurite: "Azurite Blob service is successfully listening at http://127.0.0.1:32949";
    // the single-service binaries say "… service successfully listens on http://…".
    [GeneratedRegex(@"Azurite (?<service>Blob|Queue|Table) service (?:is )?successfully listen(?:s|ing) (?:on|at) https?://[^:/]+:(?<port>\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex Listening();
}
