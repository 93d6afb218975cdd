// The seam between the image builder and Nix, so the builder can be tested without Nix.
namespace Nixery.Builder.Nix;

public interface INixClient
{
    /// <summary>
    /// Resolves the request's package names in its package set, realises them and reports the
    /// runtime graph. Returns <see cref="PackagesNotFound"/> when any name is unknown; throws
    /// <see cref="NixException"/> when Nix fails or runs out of time.
    /// </summary>
    Task<PrepareResult> PrepareAsync(PrepareRequest request, CancellationToken cancellationToken);
}
