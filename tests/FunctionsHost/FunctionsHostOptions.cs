// What one emulated Functions host runs: which app, with which settings, and the few knobs a
// test needs that the real host fixes (its queue visibility) or that bound a hang.
namespace Nixery.FunctionsHost;

public sealed record FunctionsHostOptions
{
    /// <summary>The app folder: a `dotnet publish` output or the bin/&lt;Configuration&gt;/net10.0 of a
    /// Functions app build (worker.config.json, functions.metadata, host.json, the app's dll).</summary>
    public required string AppDirectory { get; init; }

    /// <summary>The app settings: the worker's environment (on top of this process's, as the
    /// host's environment is the worker's), %SETTING% values and connection strings for bindings.</summary>
    public IReadOnlyDictionary<string, string> AppSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>How long a received queue message stays invisible, renewed at half of it while its
    /// invocation runs. The host fixes it at 10 minutes (QueueListener._visibilityTimeout).</summary>
    public TimeSpan QueueVisibility { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The bound on the worker's start: connected, initialised, every function loaded.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Names this host in its log lines (two hosts on one queue stand for two instances).</summary>
    public string Name { get; init; } = "host";
}
