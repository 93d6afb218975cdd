// How often each package is referenced across the package set, computed ahead of time
// (Nixery's popcount). Popular packages (glibc, openssl, cacert) get layers of their own,
// so images that share them share the layer blobs too.
using System.Text.Json;
using Nixery.Builder.Nix;

namespace Nixery.Builder.Layers;

public sealed class Popularity
{
    private readonly IReadOnlyDictionary<string, int> _byName;

    public Popularity(IReadOnlyDictionary<string, int> byName)
    {
        ArgumentNullException.ThrowIfNull(byName);
        _byName = byName;
    }

    /// <summary>No data: every package counts 1, so layers are ordered by size alone.</summary>
    public static Popularity Empty { get; } = new(new Dictionary<string, int>());

    /// <summary>
    /// Popularity of the package a store path holds, looked up by its name (the path without
    /// "/nix/store/&lt;hash&gt;-"); 1 when the package is not in the data.
    /// </summary>
    public int Of(string storePath) => _byName.TryGetValue(StorePaths.Name(storePath), out var count) ? count : 1;

    /// <summary>Reads popcount output: a JSON object of package name → reference count.</summary>
    /// <exception cref="FormatException">The text is not such an object.</exception>
    public static Popularity Parse(string json)
    {
        using var document = ParseDocument(json);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("popularity data must be a JSON object of package name → count");
        }

        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt32(out var count))
            {
                throw new FormatException($"popularity of '{property.Name}' must be an integer, not {property.Value.GetRawText()}");
            }

            byName[property.Name] = count;
        }

        return new Popularity(byName);
    }

    private static JsonDocument ParseDocument(string json)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"popularity data is not valid JSON: {e.Message}", e);
        }
    }
}
