// How the client fails: a build that runs too long, a builder that fails, a set that does
// not evaluate. Each fixture set is written fresh with a nonce in its derivation names, so
// Nix really builds (nothing cached from an earlier run).
using System.Text.RegularExpressions;
using Nixery.Builder.Nix;
using Nixery.TestSupport;

namespace Nixery.Builder.Tests.Nix;

public sealed class NixFailureTests : IDisposable
{
    private readonly TempDir dir = new("nix-fixture");
    // Digits only: it also goes into `sleep`'s arguments (GNU sleep sums them) to find the builder in /proc.
    private readonly string nonce = Random.Shared.NextInt64(100_000_000_000, 999_999_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose() => dir.Dispose();

    private string WriteSet(string builderScript)
    {
        File.WriteAllText(dir.Combine("default.nix"), $$"""
            { }:
            {
              pkg = derivation {
                name = "fixture-{{nonce}}";
                system = "x86_64-linux";
                builder = "/bin/sh";
                args = [ "-c" "set -e; {{builderScript}}" ];
              };
            }
            """);
        return dir.Path;
    }

    private static NixClient Client(TimeSpan timeout, ListLogger<NixClient> logger) =>
        new(new NixOptions { NixExpressionsPath = RepoPaths.NixDir, Timeout = timeout }, logger);

    [Fact]
    public async Task SlowBuildIsKilledAtTheTimeout()
    {
        var set = WriteSet($"echo fixture started >&2; /bin/sleep 30 0.{nonce}; echo done > $out");
        var logger = new ListLogger<NixClient>();

        var error = await Assert.ThrowsAsync<NixException>(() =>
            Client(TimeSpan.FromSeconds(2), logger).PrepareAsync(new PrepareRequest(["pkg"], "x86_64-linux", set), CancellationToken.None));

        Assert.Equal(NixFailureKind.Timeout, error.Kind);
        Assert.Contains("timeout of 2 s", error.Message);
        Assert.Contains(error.LogTail, l => l.Contains("fixture started"));
        Assert.True(await ProcessTable.NoneMentionsAsync(nonce, TimeSpan.FromSeconds(5)), "the builder's sleep outlived the timeout");
    }

    [Fact]
    public async Task CallerCancellationStopsNixWithoutTimeoutError()
    {
        var set = WriteSet($"echo fixture started >&2; /bin/sleep 30 0.{nonce}; echo done > $out");
        using var cancel = new CancellationTokenSource();
        var logger = new ListLogger<NixClient>();
        var task = Client(TimeSpan.FromMinutes(1), logger).PrepareAsync(new PrepareRequest(["pkg"], "x86_64-linux", set), cancel.Token);
        cancel.CancelAfter(TimeSpan.FromSeconds(1));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.True(await ProcessTable.NoneMentionsAsync(nonce, TimeSpan.FromSeconds(5)), "the builder's sleep outlived the cancellation");
    }

    [Fact]
    public async Task FailingBuilderIsNamedWithItsLogTail()
    {
        var set = WriteSet("echo deliberate failure one >&2; echo deliberate failure two >&2; exit 3");
        var logger = new ListLogger<NixClient>();

        var error = await Assert.ThrowsAsync<NixException>(() =>
            Client(TimeSpan.FromMinutes(1), logger).PrepareAsync(new PrepareRequest(["pkg"], "x86_64-linux", set), CancellationToken.None));

        Assert.Equal(NixFailureKind.BuildFailed, error.Kind);
        Assert.Matches(new Regex($@"builder for '/nix/store/[0-9a-z]{{32}}-fixture-{nonce}\.drv' failed"), error.Message);
        Assert.Contains(error.LogTail, l => l.Contains("deliberate failure two"));
        Assert.True(error.LogTail.Count <= 20);
        // The build log was streamed under stable keys while Nix ran.
        Assert.Contains(logger.Entries, e => Equals(e.Values.GetValueOrDefault("Command"), "nix-store")
            && (e.Values.GetValueOrDefault("Line") as string ?? "").Contains("deliberate failure one"));
    }

    [Fact]
    public async Task SetThatDoesNotEvaluateIsAnEvaluationFailure()
    {
        File.WriteAllText(dir.Combine("default.nix"), "{ }: { pkg = throw \"fixture-broken-" + nonce + "\"; }");

        var error = await Assert.ThrowsAsync<NixException>(() =>
            Client(TimeSpan.FromMinutes(1), new ListLogger<NixClient>()).PrepareAsync(new PrepareRequest(["pkg"], "x86_64-linux", dir.Path), CancellationToken.None));

        Assert.Equal(NixFailureKind.EvaluationFailed, error.Kind);
        Assert.Contains(error.LogTail, l => l.Contains("fixture-broken-" + nonce));
    }
}
