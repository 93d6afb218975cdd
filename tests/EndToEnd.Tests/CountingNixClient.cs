// Wraps the real Nix client to count how often a registry asked Nix for anything, so a
// test can show that a second pull builds nothing. Nix itself still runs for real.
using Nixery.Builder.Nix;

namespace Nixery.EndToEnd.Tests;

public sealed class CountingNixClient(INixClient inner) : INixClient
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public Task<PrepareResult> PrepareAsync(PrepareRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        return inner.PrepareAsync(request, cancellationToken);
    }
}
