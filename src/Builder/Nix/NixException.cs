// A Nix step that did not give an answer the build can use. The worker turns it into a
// failed build status that shows the user the reason and the end of Nix's log.
namespace Nixery.Builder.Nix;

public enum NixFailureKind
{
    /// <summary>The whole prepare step ran longer than <see cref="NixOptions.Timeout"/>; Nix was killed.</summary>
    Timeout,

    /// <summary>A derivation's builder failed (<c>nix-store --realise</c> exited non-zero).</summary>
    BuildFailed,

    /// <summary>Evaluating the package set or querying the store failed.</summary>
    EvaluationFailed,
}

public sealed class NixException : Exception
{
    public NixException(NixFailureKind kind, string message, IReadOnlyList<string> logTail, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        LogTail = logTail;
    }

    public NixFailureKind Kind { get; }

    /// <summary>The last lines (about 20) Nix wrote to stderr, oldest first.</summary>
    public IReadOnlyList<string> LogTail { get; }
}
