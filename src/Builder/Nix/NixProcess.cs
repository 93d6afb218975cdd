// Runs one Nix command without a shell: arguments passed one by one (CliWrap escapes them),
// stdout captured whole (it is JSON or a list of paths), stderr streamed line by line into the
// log (Nix's build log is the only progress a slow build shows) with the last lines kept for
// errors.
// On cancellation the whole process tree is killed: nix-store's builders are its children,
// and a builder left running would keep holding the store lock of its output.
//
// The command runs through CliWrap, as git, tar and `nix show-config` do (Core/Sources/GitCli.cs),
// but cancellation is ours first: CliWrap's kill is Process.Kill(entireProcessTree: true), which
// misses a builder forked within its parent's clock tick (ProcessTree.cs says how that showed
// up), so ProcessTree stops and kills the tree, and only then is CliWrap's forceful token
// cancelled (it kills anything left, stops reading the pipes and bounds the wait for the exit).
using System.ComponentModel;
using System.Text;
using CliWrap;
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
        var stdout = new StringBuilder();
        using var forceful = new CancellationTokenSource();
        CommandTask<CommandResult> running;
        try
        {
            // stdin is CliWrap's empty source: closed at once, so Nix never waits on it.
            running = Cli.Wrap(command)
                .WithArguments(arguments)
                .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
                .WithStandardErrorPipe(PipeTarget.ToDelegate(line =>
                {
                    logger.LogInformation("{Command}: {Line}", command, line);
                    tail.Add(line);
                }))
                .WithValidation(CommandResultValidation.None)
                .ExecuteAsync(forceful.Token);
        }
        catch (Win32Exception e)
        {
            // CliWrap wraps the operating system's own reason.
            throw new NixException(NixFailureKind.EvaluationFailed, $"cannot start {command}: {(e.InnerException ?? e).Message} (is Nix installed? run scripts/setup)", [], e);
        }

        logger.LogDebug("Started {Command} {Arguments}", command, string.Join(' ', arguments));
        // Our tree kill first, then CliWrap's forceful cancellation: it kills whatever is left
        // with Process.Kill(entireProcessTree: true) and stops reading the pipes.
        var registration = cancellationToken.Register(() =>
        {
            if (OperatingSystem.IsLinux())
            {
                ProcessTree.Kill(running.ProcessId);
            }

            forceful.Cancel();
        });
        await using (registration)
        {
            try
            {
                var result = await running;
                return new NixRun(result.ExitCode, stdout.ToString());
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException($"{command} was stopped", cancellationToken);
            }
        }
    }
}
