// The app settings the emulator was given, read the way the host reads them for bindings:
// "%NAME%" inside a binding property is replaced by the setting NAME (the WebJobs name
// resolver; an unknown name stops the host at indexing), and a binding's "connection" names a
// setting as the storage extensions resolve it (Microsoft.Azure.WebJobs.Extensions.Storage.
// Common StorageClientProvider, WebJobs IConfiguration.GetWebJobsConnectionSection):
//   "X" → the setting X, else AzureWebJobsX; an empty name → AzureWebJobsStorage.
// A connection string is supported. An identity-based connection (X__queueServiceUri,
// X__serviceUri, X__accountName, X__credential …) is recognised and refused with a sentence:
// tokens from a managed identity cannot be had here.
using System.Text.RegularExpressions;

namespace Nixery.FunctionsHost;

internal sealed partial class AppSettings
{
    public const string DefaultConnection = "AzureWebJobsStorage";

    private readonly IReadOnlyDictionary<string, string> _settings;

    public AppSettings(IReadOnlyDictionary<string, string> settings) =>
        _settings = new Dictionary<string, string>(settings, StringComparer.OrdinalIgnoreCase);

    public string? this[string name] => _settings.TryGetValue(name, out var value) ? value : null;

    /// <summary>"%A%-poison" with A=builds → "builds-poison"; throws naming the missing setting.</summary>
    public string Resolve(string text, string where) =>
        Percent().Replace(text, match => this[match.Groups[1].Value]
            ?? throw new InvalidOperationException($"{where}: '%{match.Groups[1].Value}%' does not resolve to a value: add the app setting {match.Groups[1].Value}."));

    /// <summary>The connection string a binding's "connection" names.</summary>
    public string ConnectionString(string? connection, string where)
    {
        var name = string.IsNullOrEmpty(connection) ? DefaultConnection : Resolve(connection, where);
        foreach (var candidate in new[] { name, "AzureWebJobs" + name }.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (this[candidate] is { Length: > 0 } value)
            {
                return value;
            }

            if (_settings.Keys.Any(k => k.StartsWith(candidate + "__", StringComparison.OrdinalIgnoreCase) || k.StartsWith(candidate + ":", StringComparison.OrdinalIgnoreCase)))
            {
                throw new NotSupportedException($"{where}: connection '{name}' is identity-based ({candidate}__…); the emulator needs a connection string in the app setting {name}.");
            }
        }

        throw new InvalidOperationException($"{where}: connection '{name}' is not configured: add the app setting {name} (or AzureWebJobs{name}) with a storage connection string.");
    }

    [GeneratedRegex("%([^%]+)%", RegexOptions.CultureInvariant)]
    private static partial Regex Percent();
}
