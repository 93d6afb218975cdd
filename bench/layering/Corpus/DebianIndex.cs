// Reads the Debian package index as `apt-cache dumpavail` prints it (one RFC 822 stanza per
// package) into the few fields the layering corpus needs. Debian is the largest dependency
// graph on this machine that nobody here wrote: ~60,000 packages with declared runtime
// dependencies and installed sizes, which is what a Nix runtime graph holds too.
//
// Rules, the same as nix/debian/generate uses for the offline package set:
//
// - Depends and Pre-Depends are the runtime references; Recommends, Suggests and the rest
//   are not (Nix references are what a path cannot run without).
// - `a (>= 1) | b:any [amd64] <!nocheck>`: version constraints, architecture qualifiers and
//   build profiles are dropped; of the alternatives the first that names a package wins,
//   either a real one or a virtual one, which resolves to its alphabetically first provider.
//   A relation that no alternative satisfies is dropped (and counted).
// - Size is Installed-Size (KiB) × 1024; a package without one weighs 0 bytes.
using System.Globalization;
using System.Text.RegularExpressions;

namespace Nixery.Bench.Layering.Corpus;

/// <param name="Depends">Depends and Pre-Depends, each a list of alternatives (names only).</param>
public sealed record DebianPackage(string Name, string Version, long Size, string Section, IReadOnlyList<IReadOnlyList<string>> Depends, IReadOnlyList<string> Provides);

/// <summary>Packages by name, and their dependencies resolved to package names.</summary>
/// <param name="Dependencies">Name → sorted distinct names it depends on (itself left out).</param>
/// <param name="Unsatisfied">Relations no alternative of which names an indexed package.</param>
public sealed partial record DebianIndex(
    IReadOnlyDictionary<string, DebianPackage> Packages,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Dependencies,
    int Unsatisfied)
{
    public static DebianIndex Parse(TextReader reader)
    {
        var packages = new SortedDictionary<string, DebianPackage>(StringComparer.Ordinal);
        foreach (var stanza in Stanzas(reader))
        {
            if (!stanza.TryGetValue("Package", out var name) || packages.ContainsKey(name))
            {
                continue; // dumpavail prints one version per package; keep the first if not
            }

            var size = stanza.TryGetValue("Installed-Size", out var kib) && long.TryParse(kib, NumberStyles.None, CultureInfo.InvariantCulture, out var k) ? k * 1024 : 0;
            var depends = Relations(stanza.GetValueOrDefault("Pre-Depends")).Concat(Relations(stanza.GetValueOrDefault("Depends"))).ToList();
            var provides = Relations(stanza.GetValueOrDefault("Provides")).Select(alternatives => alternatives[0]).ToList();
            packages[name] = new DebianPackage(name, stanza.GetValueOrDefault("Version") ?? "0", size, stanza.GetValueOrDefault("Section") ?? "", depends, provides);
        }

        var providers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var package in packages.Values)
        {
            foreach (var virtualName in package.Provides)
            {
                providers.TryAdd(virtualName, package.Name); // packages are visited in name order
            }
        }

        var dependencies = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var unsatisfied = 0;
        foreach (var package in packages.Values)
        {
            var targets = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var alternatives in package.Depends)
            {
                string? chosen = null;
                foreach (var alternative in alternatives)
                {
                    chosen = packages.ContainsKey(alternative) ? alternative : providers.GetValueOrDefault(alternative);
                    if (chosen is not null)
                    {
                        break;
                    }
                }

                if (chosen is null)
                {
                    unsatisfied++;
                }
                else if (chosen != package.Name)
                {
                    targets.Add(chosen);
                }
            }

            dependencies[package.Name] = [.. targets];
        }

        return new DebianIndex(packages, dependencies, unsatisfied);
    }

    /// <summary>"a (>= 1) | b:any, c" → [[a, b], [c]].</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Relations(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        var result = new List<IReadOnlyList<string>>();
        foreach (var group in text.Split(','))
        {
            var alternatives = group.Split('|')
                .Select(alternative => Qualifiers().Replace(alternative, "").Split(':')[0].Trim())
                .Where(alternative => alternative.Length > 0)
                .ToList();
            if (alternatives.Count > 0)
            {
                result.Add(alternatives);
            }
        }

        return result;
    }

    private static IEnumerable<Dictionary<string, string>> Stanzas(TextReader reader)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        string? key = null;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0)
            {
                if (fields.Count > 0)
                {
                    yield return fields;
                    fields = new Dictionary<string, string>(StringComparer.Ordinal);
                }

                key = null;
            }
            else if (line[0] is ' ' or '\t')
            {
                if (key is not null)
                {
                    fields[key] += " " + line.Trim(); // a continuation line
                }
            }
            else if (line.IndexOf(':', StringComparison.Ordinal) is var colon and > 0)
            {
                key = line[..colon];
                fields[key] = line[(colon + 1)..].Trim();
            }
        }

        if (fields.Count > 0)
        {
            yield return fields;
        }
    }

    // "(>= 1.2)", "[amd64]", "<!nocheck>"
    [GeneratedRegex(@"\(.*?\)|\[.*?\]|<.*?>")]
    private static partial Regex Qualifiers();
}
