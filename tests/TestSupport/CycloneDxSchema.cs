// Validates a document against the CycloneDX 1.5 JSON schema vendored in Schemas/cyclonedx
// (see its README for where the files come from), with JsonSchema.Net. The BOM schema refers
// to the SPDX licence list and the signature schema by their "SNAPSHOT" file names relative
// to its $id, so those two are registered under the URIs those references resolve to.
using System.Text.Json;
using Json.Schema;

namespace Nixery.TestSupport;

public static class CycloneDxSchema
{
    private const string Base = "http://cyclonedx.org/schema/";

    private static readonly Lazy<JsonSchema> Bom = new(Load);

    /// <summary>Every schema error as "instance location: keyword message"; empty when valid.</summary>
    public static IReadOnlyList<string> Errors(string json)
    {
        using var document = JsonDocument.Parse(json);
        var result = Bom.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (result.IsValid)
        {
            return [];
        }

        return [.. (result.Details ?? []).SelectMany(d => (d.Errors ?? new Dictionary<string, string>()).Select(e => $"{d.InstanceLocation}: {e.Key} {e.Value}"))];
    }

    private static JsonSchema Load()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Schemas", "cyclonedx");
        var build = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
        foreach (var file in new[] { "spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json" })
        {
            build.SchemaRegistry.Register(new Uri(Base + file), JsonSchema.FromFile(Path.Combine(folder, file), build));
        }

        return JsonSchema.FromFile(Path.Combine(folder, "bom-1.5.SNAPSHOT.schema.json"), build);
    }
}
