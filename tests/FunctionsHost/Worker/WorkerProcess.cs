// Starts the app's worker process the way the host does, and stops it.
//
// Command line (host: src/WebJobs.Script/Workers/ProcessManagement/DefaultWorkerProcessFactory.cs
// GetArguments, src/WebJobs.Script/Workers/Rpc/RpcWorkerContext.cs GetFormattedArguments):
//   <defaultExecutablePath> <arguments…> "<defaultWorkerPath>"
//     --host 127.0.0.1 --port <grpc port> --workerId <id> --requestId <id> --grpcMaxMessageLength 2147483647
//     --functions-uri http://127.0.0.1:<grpc port>/ --functions-worker-id <id> --functions-request-id <id>
//     --functions-grpc-max-message-length 2147483647
// (the length is RpcWorkerConstants.DefaultMaxMessageLengthBytes = int.MaxValue; the .NET worker
// reads the "--functions-" forms: DotNetWorker/Hosting/WorkerHostBuilderExtensions.cs).
//
// Environment: the host's own environment (on Azure the app settings are environment
// variables of the host, so the worker inherits them; here they are the settings given), plus
// FUNCTIONS_WORKER_DIRECTORY and FUNCTIONS_APPLICATION_DIRECTORY = the app folder
// (src/WebJobs.Script/Workers/Rpc/RpcWorkerProcess.cs CreateWorkerProcess). The worker reads
// host.json's route prefix from FUNCTIONS_APPLICATION_DIRECTORY. FUNCTIONS_WORKER_RUNTIME and
// AzureWebJobsScriptRoot are settings of the host's environment, so the worker sees them too.
// ASPNETCORE_URLS is not set: the host never sets it, and the ASP.NET Core integration picks its
// own port (Worker.Extensions.Http.AspNetCore/src/HttpUriProvider.cs) and reports it as HttpUri.
// Working directory: the app folder. Output lines go to the emulator's log.
//
// Stopping (host: GrpcWorkerChannel.StopWorkerProcess, WorkerProcess.Dispose): WorkerTerminate
// over gRPC with a 5 s grace period when the worker handles it, then kill. Here a SIGTERM (what
// the platform sends when it recycles an instance) comes between the two.
using System.Diagnostics;
using System.Globalization;

namespace Nixery.FunctionsHost;

internal sealed class WorkerProcess : IDisposable
{
    public const int MaxMessageLength = int.MaxValue;

    private readonly Process _process;
    private readonly HostLog _log;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkerProcess(Process process, HostLog log)
    {
        _process = process;
        _log = log;
    }

    /// <summary>The process id (kept: it stays readable after the process is gone).</summary>
    public int Id { get; private set; }

    /// <summary>Completes with the exit code when the process has exited and its output is read.</summary>
    public Task<int> Exited => _exited.Task;

    public bool HasExited => _exited.Task.IsCompleted;

    public static WorkerProcess Start(WorkerConfig config, Uri grpcUri, string workerId, IReadOnlyDictionary<string, string> appSettings, HostLog log)
    {
        var requestId = Guid.NewGuid().ToString();
        var length = MaxMessageLength.ToString(CultureInfo.InvariantCulture);
        var start = new ProcessStartInfo(config.ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            CreateNoWindow = true,
            WorkingDirectory = config.WorkerDirectory,
        };
        foreach (var argument in config.Arguments.Append(config.WorkerPath).Concat(
        [
            "--host", grpcUri.Host, "--port", grpcUri.Port.ToString(CultureInfo.InvariantCulture),
            "--workerId", workerId, "--requestId", requestId, "--grpcMaxMessageLength", length,
            "--functions-uri", grpcUri.AbsoluteUri, "--functions-worker-id", workerId,
            "--functions-request-id", requestId, "--functions-grpc-max-message-length", length,
        ]))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in appSettings)
        {
            start.Environment[name] = value;
        }

        start.Environment["FUNCTIONS_WORKER_DIRECTORY"] = config.WorkerDirectory;
        start.Environment["FUNCTIONS_APPLICATION_DIRECTORY"] = config.WorkerDirectory;

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var worker = new WorkerProcess(process, log);
        process.OutputDataReceived += (_, e) => worker.OnLine("stdout", e.Data);
        process.ErrorDataReceived += (_, e) => worker.OnLine("stderr", e.Data);
        process.Exited += (_, _) => worker.OnExited();
        log.Write("host", $"worker.starting executable={config.ExecutablePath} arguments=\"{string.Join(' ', start.ArgumentList)}\" directory={config.WorkerDirectory}");
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {config.ExecutablePath}");
        }

        worker.Id = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        log.Write("host", $"worker.started pid={process.Id} workerId={workerId}");
        return worker;
    }

    /// <summary>SIGTERM, then SIGKILL of the whole tree if it has not exited within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (HasExited)
        {
            return;
        }

        try
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
            if (kill is not null)
            {
                await kill.WaitForExitAsync();
            }

            await Exited.WaitAsync(grace);
        }
        catch (TimeoutException)
        {
            _log.Write("host", $"worker.kill pid={Id} reason=\"still running {grace.TotalSeconds:0} s after SIGTERM\"");
            Kill();
        }
    }

    /// <summary>SIGKILL of the process tree: a crash, nothing gets to clean up.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void OnLine(string stream, string? line)
    {
        if (line is not null)
        {
            _log.Write(stream, line);
        }
    }

    private void OnExited()
    {
        // Let the output already written reach the log before the exit is reported.
        _process.WaitForExit();
        var code = _process.ExitCode;
        _log.Write("host", $"worker.exited pid={Id} exitCode={code}");
        _exited.TrySetResult(code);
    }
}
