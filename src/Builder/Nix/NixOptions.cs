// Where the Nix expressions live and how long one prepare step may take.
namespace Nixery.Builder.Nix;

public sealed record NixOptions
{
    /// <summary>Directory holding prepare-image.nix (the repo's <c>nix/</c> folder).</summary>
    public required string NixExpressionsPath { get; init; }

    /// <summary>Bound on one whole prepare (evaluate, realise, query); Nix is killed when it passes.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
}
