// Runs git for the package sources: `ls-remote` at request time (which commit a branch or
// tag names now) and, in the worker, fetch and archive. Never prompts (a repository that
// wants credentials fails at once), never outlives its timeout, and a failure carries the
// first lines git wrote to stderr.
using System.Diagnostics;
using System.Text;

namespace Nixery.Core.Sources;

public static class GitCli
{
    /// <summary>git's stdout; throws SourceUnavailableException on a non-zero exit or the timeout.</summary>
    public static async Task<string> RunAsync(IReadOnlyList<string> arguments, string? workingDirectory, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var process = Start(arguments, workingDirectory);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
            var output = await stdout;
            var errors = await stderr;
            return process.ExitCode == 0 ? output : throw Failed(arguments, $"exit code {process.ExitCode}: {FirstLines(errors)}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Failed(arguments, $"no answer within {timeout.TotalSeconds:0} s");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>Starts git with stdout to be read by the caller (e.g. `git archive`).</summary>
    public static Process Start(IReadOnlyList<string> arguments, string? workingDirectory)
    {
        var start = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["GIT_ASKPASS"] = "/bin/false";
        start.Environment["LC_ALL"] = "C";
        try
        {
            return Process.Start(start) ?? throw new SourceUnavailableException("git could not be started");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SourceUnavailableException($"git could not be started ({e.Message}); git sources need git on this machine", e);
        }
    }

    public static SourceUnavailableException Failed(IReadOnlyList<string> arguments, string why) =>
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
