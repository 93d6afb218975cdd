// Which Nix systems this worker can build: its own `system` and its `extra-platforms`
// (`nix show-config`). An image index over a multi-system package set lists only these; an
// image that asks for another one by name fails with a sentence saying what this worker builds.
// `nix show-config` runs through CliWrap, as git and tar do (Core/Sources/GitCli.cs).
using CliWrap;
using CliWrap.Buffered;

namespace Nixery.Builder.Nix;

public sealed class NixPlatforms
{
    private readonly Lazy<Task<IReadOnlyList<string>>> _systems = new(ReadAsync);

    /// <summary>The systems, this machine's own first.</summary>
    public Task<IReadOnlyList<string>> GetAsync() => _systems.Value;

    /// <summary>Reads <c>system</c> and <c>extra-platforms</c> from the text of <c>nix show-config</c>.</summary>
    public static IReadOnlyList<string> Parse(string showConfig)
    {
        string? system = null;
        var extra = new List<string>();
        foreach (var line in showConfig.Split('\n'))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                continue;
            }

            var key = line[..equals].Trim();
            var value = line[(equals + 1)..].Trim();
            if (key == "system")
            {
                system = value;
            }
            else if (key == "extra-platforms")
            {
                extra.AddRange(value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }
        }

        return system is null ? [] : [system, .. extra.Where(e => e != system).Distinct(StringComparer.Ordinal)];
    }

    private static async Task<IReadOnlyList<string>> ReadAsync()
    {
        var showConfig = await Cli.Wrap("nix").WithArguments(["show-config"]).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
        var systems = Parse(showConfig.StandardOutput);
        // Without an answer, assume the usual: the machine builds its own architecture.
        return systems.Count > 0 ? systems : [System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "aarch64-linux" : "x86_64-linux"];
    }
}
