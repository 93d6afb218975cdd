// Runs the registry's HTTP app or worker host as a separate process, as they run in
// production: its own environment, its stdout read line by line so a test can wait for a
// log line (a condition, not a sleep), and stopped with SIGTERM (graceful) or SIGKILL
// (a crash).
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Nixery.TestSupport;

public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly List<(Regex Pattern, TaskCompletionSource<string> Found)> _waiters = [];
    private readonly Lock _gate = new();

    private ServiceProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process printed so far.</summary>
    public string Log
    {
        get
        {
            lock (_gate)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>The build output folder of a project under src/ (same configuration as the tests).</summary>
    public static string AssemblyOf(string project, string assembly)
    {
        var configuration = AppContext.BaseDirectory.Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var path = Path.Combine(RepoPaths.Root, "src", project, "bin", configuration, "net10.0", assembly);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is not built; build the solution first", path);
    }

    /// <summary>The registry's HTTP app or worker host: dotnet &lt;assembly&gt; with its settings.</summary>
    public static ServiceProcess Start(string name, string assemblyPath, IReadOnlyDictionary<string, string> environment) =>
        Start(name, "dotnet", [assemblyPath], environment, Path.GetDirectoryName(assemblyPath)!);

    /// <summary>Any long-running program (containerd, …) whose output the test reads.</summary>
    public static ServiceProcess Start(string name, string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var service = new ServiceProcess(process, name);
        process.OutputDataReceived += (_, e) => service.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => service.OnLine(e.Data);
        process.Exited += (_, _) => service.OnExited();
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {name} ({file})");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>Completes with the first line (already printed or still to come) that matches.</summary>
    public Task<string> WaitForLineAsync(string pattern, TimeSpan timeout)
    {
        var regex = new Regex(pattern, RegexOptions.CultureInvariant);
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var earlier = _log.ToString().Split('\n').FirstOrDefault(regex.IsMatch);
            if (earlier is not null)
            {
                return Task.FromResult(earlier);
            }

            _waiters.Add((regex, found));
        }

        return found.Task.WaitAsync(timeout).ContinueWith(
            t => t.IsCompletedSuccessfully
                ? t.Result
                : throw new TimeoutException($"{Name} printed no line matching /{pattern}/ {(HasExited ? "before it exited" : $"within {timeout}")}; it printed:\n{Log}"),
            TaskScheduler.Default);
    }

    /// <summary>How many printed lines match.</summary>
    public int CountLines(string pattern) => Log.Split('\n').Count(new Regex(pattern, RegexOptions.CultureInvariant).IsMatch);

    /// <summary>SIGKILL: a crash, nothing gets to clean up.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    /// <summary>SIGTERM and wait for a clean exit; returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            (await ProcessRunner.RunAsync("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])).EnsureSuccess("kill -TERM");
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }

        return _process.ExitCode;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>A process that exits can print no more: its waiters fail now, not at their timeout.</summary>
    private void OnExited()
    {
        // Let the output already written reach OnLine before giving up on the waiters.
        _process.WaitForExit();
        lock (_gate)
        {
            foreach (var waiter in _waiters)
            {
                waiter.Found.TrySetException(new InvalidOperationException($"{Name} exited"));
            }

            _waiters.Clear();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _log.AppendLine(line);
            foreach (var waiter in _waiters.Where(w => w.Pattern.IsMatch(line)).ToList())
            {
                waiter.Found.TrySetResult(line);
                _waiters.Remove(waiter);
            }
        }
    }
}
