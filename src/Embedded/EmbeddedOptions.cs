// The embedded default's own settings: where it listens and how its in-process worker runs.
// (Behind Azure Functions the host decides the port, and the queue trigger runs the builds.)
using System.ComponentModel.DataAnnotations;

namespace Nixery.Embedded;

public sealed class EmbeddedOptions
{
    /// <summary>The HTTP port (Nixery's name).</summary>
    [ConfigurationKeyName("PORT"), Range(1, 65535)]
    public int Port { get; set; } = 8080;

    /// <summary>Builds the in-process worker runs at once (0: none, so builds wait; for tests of
    /// the HTTP side).</summary>
    [ConfigurationKeyName("NIXERY_WORKERS"), Range(0, 64)]
    public int Workers { get; set; } = 1;

    /// <summary>Times the worker tries a build that throws before the image is failed.</summary>
    [ConfigurationKeyName("NIXERY_MAX_DEQUEUE"), Range(1, 100)]
    public int MaxDequeueCount { get; set; } = 3;
}
