// Issue 4's third "done when", on the embedded default (filesystem storage, in-process queue
// and worker): a derivation whose builder fails and one that outlives NIX_TIMEOUT reach
// skopeo as 404 MANIFEST_UNKNOWN whose message says what to act on — the failing derivation
// and the end of its log; the timeout, its length and what was building — the timed-out
// builder does not survive, both are listed by /failures, and pulling again within
// NIXERY_FAILURE_TTL gets the same answer without Nix being asked again. The package set is
// written fresh with a nonce in its derivation names, so Nix really builds, and the nonce
// marks the slow builder's sleep in /proc.
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Nixery.Builder.Nix;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests;

[Collection(PullCollection.Name)]
public sealed class FailureTests
{
    /// <summary>NIX_TIMEOUT: configuration, not a test threshold; "broken" only needs to fail within it.</summary>
    private const int NixTimeoutSeconds = 5;

    [Fact]
    public async Task AFailingAndATimedOutBuildReachSkopeoWithTheirReasonsAndAreNotBuiltAgainWithinTheTtl()
    {
        using var root = new TempDir("nixery-e2e-failures");
        var nonce = Random.Shared.NextInt64(100_000_000_000, 999_999_999_999).ToString(CultureInfo.InvariantCulture);
        CountingNixClient? nix = null;
        await using var registry = await RegistryInstance.StartAsync(
            root.Combine("storage"),
            new Dictionary<string, string?>
            {
                ["NIXERY_PKGS_PATH"] = WritePackageSet(root.Combine("set"), nonce),
                ["NIX_TIMEOUT"] = NixTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
                // Long enough that the first pull is answered with the outcome, not with 429.
                ["NIXERY_BUILD_WAIT"] = "300",
                ["NIXERY_WORKERS"] = "2",
            },
            services => services.AddSingleton<INixClient>(sp => nix = new CountingNixClient(ActivatorUtilities.CreateInstance<NixClient>(sp))));
        _ = registry.Services.GetRequiredService<INixClient>();

        var pulls = await Task.WhenAll(
            Clients.SkopeoCopyAsync(registry.HostPort, "broken:latest", root.Combine("oci-broken")),
            Clients.SkopeoCopyAsync(registry.HostPort, "slow:latest", root.Combine("oci-slow")));
        var (broken, slow) = (pulls[0], pulls[1]);

        Assert.NotEqual(0, broken.ExitCode);
        var brokenMessage = ManifestUnknownMessage(broken.Stderr);
        Assert.Matches($@"^manifest unknown: image broken could not be built: builder for '/nix/store/[a-z0-9]{{32}}-nixery-broken-{nonce}\.drv' failed with exit code 3", brokenMessage);
        Assert.Contains("last lines of the log: ", brokenMessage, StringComparison.Ordinal);
        Assert.Contains($"broken builder gives up {nonce}", brokenMessage, StringComparison.Ordinal);

        Assert.NotEqual(0, slow.ExitCode);
        var slowMessage = ManifestUnknownMessage(slow.Stderr);
        Assert.StartsWith($"manifest unknown: image slow could not be built: Nix did not finish preparing slow within the timeout of {NixTimeoutSeconds} s", slowMessage, StringComparison.Ordinal);
        Assert.Matches($@"building '/nix/store/[a-z0-9]{{32}}-nixery-slow-{nonce}\.drv'", slowMessage);
        Assert.Contains($"slow builder started {nonce}", slowMessage, StringComparison.Ordinal);

        Assert.True(await ProcessTable.NoneMentionsAsync(nonce, TimeSpan.FromSeconds(30)), $"a process of the timed-out build (marked {nonce}) is still running");
        Assert.Equal(2, nix!.Calls);

        var again = await Task.WhenAll(
            Clients.SkopeoCopyAsync(registry.HostPort, "broken:latest", root.Combine("oci-broken-2")),
            Clients.SkopeoCopyAsync(registry.HostPort, "slow:latest", root.Combine("oci-slow-2")));
        Assert.Equal(brokenMessage, ManifestUnknownMessage(again[0].Stderr));
        Assert.Equal(slowMessage, ManifestUnknownMessage(again[1].Stderr));
        Assert.Equal(2, nix.Calls);

        using var listed = JsonDocument.Parse(await registry.Client.GetStringAsync("/failures"));
        var failures = listed.RootElement.GetProperty("failures").EnumerateArray()
            .ToDictionary(f => f.GetProperty("image").GetString()!, f => f);
        Assert.Equal(["broken", "slow"], failures.Keys.Order(StringComparer.Ordinal));
        Assert.Matches($@"^builder for '/nix/store/[a-z0-9]{{32}}-nixery-broken-{nonce}\.drv' failed with exit code 3", failures["broken"].GetProperty("reason").GetString());
        Assert.Contains(failures["broken"].GetProperty("log").EnumerateArray(), l => l.GetString() == $"broken builder gives up {nonce}");
        Assert.StartsWith($"Nix did not finish preparing slow within the timeout of {NixTimeoutSeconds} s", failures["slow"].GetProperty("reason").GetString(), StringComparison.Ordinal);
        var page = await registry.Client.GetStringAsync("/");
        Assert.Contains("<code>broken</code>", page, StringComparison.Ordinal);
        Assert.Contains("<code>slow</code>", page, StringComparison.Ordinal);
        Assert.Equal(2, nix.Calls);
    }

    private static string WritePackageSet(string folder, string nonce)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "default.nix"), $$"""
            { }:
            {
              broken = derivation {
                name = "nixery-broken-{{nonce}}";
                system = "x86_64-linux";
                builder = "/bin/sh";
                args = [ "-c" "echo broken builder starts >&2; echo broken builder gives up {{nonce}} >&2; exit 3" ];
              };
              slow = derivation {
                name = "nixery-slow-{{nonce}}";
                system = "x86_64-linux";
                builder = "/bin/sh";
                args = [ "-c" "echo slow builder started {{nonce}} >&2; /bin/sleep 600 0.{{nonce}}; echo done > $out" ];
              };
            }
            """);
        File.WriteAllText(Path.Combine(folder, "nixery.json"),
            """{"name":"failures-fixture","linkClosure":false,"alwaysInclude":[],"shell":[],"system":"x86_64-linux"}""");
        return folder;
    }

    /// <summary>skopeo's one error line from the registry's error code on, without logrus's closing quote.</summary>
    private static string ManifestUnknownMessage(string stderr)
    {
        var start = stderr.IndexOf("manifest unknown", StringComparison.Ordinal);
        Assert.True(start >= 0, $"skopeo did not say \"manifest unknown\":\n{stderr}");
        var line = stderr[start..].Split('\n')[0].TrimEnd();
        return line.EndsWith('"') ? line[..^1] : line;
    }
}
