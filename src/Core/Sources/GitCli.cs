// Runs git for the package sources: `ls-remote` at request time (which commit a branch or
// tag names now) and, in the worker, fetch, cat-file and archive. Never prompts (a repository
// that wants credentials fails at once), never outlives its timeout, and a failure carries the
// first lines git wrote to stderr. Processes are started through CliWrap, the one runner for
// git, tar and `nix show-config` (a timeout or cancellation kills git's process tree); only
// Nix builds keep their own runner (Builder/Nix/NixProcess.cs says why).
using System.ComponentModel;
using System.Text;
using CliWrap;

namespace Nixery.Core.Sources;

public static class GitCli
{
    /// <summary>git's stdout; throws SourceUnavailableException on a non-zero exit or the timeout.</summary>
    public static async Task<string> RunAsync(IReadOnlyList<string> arguments, string? workingDirectory, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var stdout = new StringBuilder();
        await RunAsync(arguments, workingDirectory, PipeTarget.ToStringBuilder(stdout), timeout, cancellationToken);
        return stdout.ToString();
    }

    /// <summary>Runs git with its stdout sent to <paramref name="stdout"/> (e.g. `git archive`
    /// into an unpacker); throws SourceUnavailableException on a non-zero exit or the timeout.</summary>
    public static async Task RunAsync(IReadOnlyList<string> arguments, string? workingDirectory, PipeTarget stdout, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var stderr = new StringBuilder();
        var git = Cli.Wrap("git")
            .WithArguments(arguments)
            .WithWorkingDirectory(workingDirectory ?? Environment.CurrentDirectory)
            .WithEnvironmentVariables(env => env
                .Set("GIT_TERMINAL_PROMPT", "0")
                .Set("GIT_ASKPASS", "/bin/false")
                .Set("LC_ALL", "C"))
            .WithStandardOutputPipe(stdout)
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .WithValidation(CommandResultValidation.None);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var result = await git.ExecuteAsync(deadline.Token);
            if (result.ExitCode != 0)
            {
                throw Failed(arguments, $"exit code {result.ExitCode}: {FirstLines(stderr.ToString())}");
            }
        }
        catch (Win32Exception e)
        {
            // CliWrap wraps the operating system's own reason.
            throw new SourceUnavailableException($"git could not be started ({(e.InnerException ?? e).Message}); git sources need git on this machine", e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Failed(arguments, $"no answer within {timeout.TotalSeconds:0} s");
        }
    }

    private static SourceUnavailableException Failed(IReadOnlyList<string> arguments, string why) =>
        new($"git {string.Join(' ', arguments.Take(2))} failed: {why}");

    public static string FirstLines(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var builder = new StringBuilder();
        foreach (var line in lines.Take(3))
        {
            builder.Append(builder.Length == 0 ? "" : " / ").Append(line);
        }

        return builder.Length == 0 ? "(no message)" : builder.ToString();
    }
}
