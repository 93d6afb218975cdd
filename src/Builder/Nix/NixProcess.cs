// Runs one Nix command without a shell: arguments through ArgumentList, stdout captured
// whole (it is JSON or a list of paths), stderr streamed line by line into the log (Nix's
// build log is the only progress a slow build shows) with the last lines kept for errors.
// On cancellation the whole process tree is killed: nix-store's builders are its children,
// and a builder left running would keep holding the store lock of its output.
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Nixery.Builder.Nix;

internal sealed record NixRun(int ExitCode, string Stdout);

/// <summary>The last stderr lines of the Nix commands of one prepare, for error reports.</summary>
internal sealed class NixLogTail
{
    private const int Lines = 20;
    private readonly Queue<string> lines = new();

    /// <summary>Every line seen, not only the tail, is offered here (e.g. to spot a failing builder).</summary>
    public Action<string>? Watch { get; set; }

    public void Add(string line)
    {
        Watch?.Invoke(line);
        lock (lines)
        {
            lines.Enqueue(line);
            while (lines.Count > Lines)
            {
                lines.Dequeue();
            }
        }
    }

    public IReadOnlyList<string> Snapshot()
    {
        lock (lines)
        {
            return [.. lines];
        }
    }
}

internal static class NixProcess
{
    public static async Task<NixRun> RunAsync(string command, IReadOnlyList<string> arguments, NixLogTail tail, ILogger logger, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new NixException(NixFailureKind.EvaluationFailed, $"cannot start {command}: {e.Message} (is Nix installed? run scripts/setup)", [], e);
        }

        process.StandardInput.Close();
        logger.LogDebug("Started {Command} {Arguments}", command, string.Join(' ', arguments));

        var stdoutTask = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderrTask = PumpStderrAsync(process.StandardError, command, tail, logger);

        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            // Let the pumps drain the pipes the killed tree leaves behind.
            await Task.WhenAll(stdoutTask, stderrTask).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None)
                .ContinueWith(_ => { }, TaskScheduler.Default);
            throw;
        }

        var stdout = await stdoutTask;
        await stderrTask;
        return new NixRun(process.ExitCode, stdout);
    }

    private static async Task PumpStderrAsync(StreamReader stderr, string command, NixLogTail tail, ILogger logger)
    {
        while (await stderr.ReadLineAsync() is { } line)
        {
            logger.LogInformation("{Command}: {Line}", command, line);
            tail.Add(line);
        }
    }

    private static void Kill(Process process)
    {
        if (OperatingSystem.IsLinux())
        {
            ProcessTree.Kill(process.Id);
        }

        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
