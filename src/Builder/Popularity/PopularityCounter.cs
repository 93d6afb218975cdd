// Counts popularity the way Nixery's popcount does: for each package name, how many OTHER
// store paths refer to it directly (a path's reference to itself does not count, nor do
// transitive references). The input is either a binary cache's .narinfo files or the
// closure graph Nix reports for a package set (nix path-info --json --recursive).
//
// The namespace is not Nixery.Builder.Popularity: a namespace of that name would hide the
// type Nixery.Builder.Layers.Popularity from every file under Nixery.Builder.
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Nixery.Builder.Nix;

namespace Nixery.Builder.PopularityData;

public static class PopularityCounter
{
    /// <summary>Package name → number of distinct other store paths that reference it; names
    /// no path references are left out (Popularity.Of counts them 1). Sorted by name (ordinal).</summary>
    public static SortedDictionary<string, int> CountDirectReferences(IEnumerable<(string Path, IEnumerable<string> References)> paths)
    {
        var referrers = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (path, references) in paths)
        {
            foreach (var reference in references)
            {
                if (reference == path)
                {
                    continue;
                }

                var name = StorePaths.Name(reference);
                if (!referrers.TryGetValue(name, out var set))
                {
                    referrers[name] = set = new HashSet<string>(StringComparer.Ordinal);
                }

                set.Add(path);
            }
        }

        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, set) in referrers)
        {
            counts[name] = set.Count;
        }

        return counts;
    }

    /// <summary>Every *.narinfo at the top of a binary cache folder (the layout of `nix copy --to file://…`):
    /// its StorePath and its References (base names, resolved against the StorePath's store folder).</summary>
    /// <exception cref="FormatException">A .narinfo has no StorePath.</exception>
    public static List<(string Path, IEnumerable<string> References)> ReadBinaryCache(string directory)
    {
        var entries = new List<(string, IEnumerable<string>)>();
        foreach (var file in Directory.EnumerateFiles(directory, "*.narinfo").Order(StringComparer.Ordinal))
        {
            entries.Add(ParseNarInfo(File.ReadAllText(file), file));
        }

        return entries;
    }

    /// <summary>One .narinfo: "StorePath: /nix/store/…-x" and "References: a-… b-…" (base names, may be empty).</summary>
    public static (string Path, IEnumerable<string> References) ParseNarInfo(string text, string source)
    {
        string? storePath = null;
        var references = new List<string>();
        foreach (var line in text.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            var key = line[..colon];
            var value = line[(colon + 1)..].Trim();
            if (key == "StorePath")
            {
                storePath = value;
            }
            else if (key == "References")
            {
                references.AddRange(value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }
        }

        if (storePath is null)
        {
            throw new FormatException($"{source} has no StorePath line");
        }

        var storeDir = storePath[..(storePath.LastIndexOf('/') + 1)];
        return (storePath, references.Select(r => r.Contains('/', StringComparison.Ordinal) ? r : storeDir + r).ToList());
    }

    /// <summary>The popularity document: {"name": count, …}, sorted by name, one entry a line; names are
    /// written as they are ("libc6+libgcc-s1", not "libc6\u002B…"): it is a file, never HTML.</summary>
    public static byte[] ToJson(IEnumerable<KeyValuePair<string, int>> counts)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            foreach (var (name, count) in counts.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                writer.WriteNumber(name, count);
            }

            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.ToArray();
    }

    /// <summary>Reads a popularity document into a mutable, name-sorted dictionary.</summary>
    /// <exception cref="FormatException">The text is not a JSON object of name → integer.</exception>
    public static SortedDictionary<string, int> ReadJson(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("popularity data must be a JSON object of package name → count");
            }

            var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                counts[property.Name] = property.Value.ValueKind == JsonValueKind.Number && property.Value.TryGetInt32(out var count)
                    ? count
                    : throw new FormatException($"popularity of '{property.Name}' must be an integer, not {property.Value.GetRawText()}");
            }

            return counts;
        }
        catch (JsonException e)
        {
            throw new FormatException($"popularity data is not valid JSON: {e.Message}", e);
        }
    }

    internal static string Describe(IReadOnlyDictionary<string, int> counts, int top) =>
        new StringBuilder()
            .AppendJoin(", ", counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(top).Select(c => $"{c.Key} {c.Value}"))
            .ToString();
}
