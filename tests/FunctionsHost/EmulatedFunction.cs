// A function as the WORKER reported it over gRPC (FunctionMetadataResponse, worker indexing:
// the .NET worker reads its functions.metadata), with the trigger details the emulator acts on
// taken from the raw binding JSON the worker sent (the host's own parsing of RawBindings:
// src/WebJobs.Script/Host/WorkerFunctionMetadataProvider.cs).
using System.Text.Json;

namespace Nixery.FunctionsHost;

/// <summary>One binding of a function, as its JSON in functions.metadata.</summary>
/// <param name="Direction">"In", "Out" or "InOut", as written.</param>
/// <param name="Properties">Every top-level string property (queueName, connection, route, …).</param>
public sealed record FunctionBinding(string Name, string Type, string Direction, string? DataType, IReadOnlyDictionary<string, string> Properties, IReadOnlyList<string> Methods, string Json)
{
    public bool IsTrigger => Type.EndsWith("Trigger", StringComparison.OrdinalIgnoreCase);

    public bool IsOutput => Direction.Equals("Out", StringComparison.OrdinalIgnoreCase) || Direction.Equals("InOut", StringComparison.OrdinalIgnoreCase);

    public string? Property(string name) => Properties.TryGetValue(name, out var value) ? value : null;

    internal static FunctionBinding Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var properties = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var methods = new List<string>();
        foreach (var property in root.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.String)
            {
                properties[property.Name] = property.Value.GetString()!;
            }
            else if (property.NameEquals("methods") && property.Value.ValueKind == JsonValueKind.Array)
            {
                methods.AddRange(property.Value.EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()));
            }
        }

        string Required(string name) => properties.TryGetValue(name, out var value)
            ? value
            : throw new InvalidOperationException($"binding {json} has no \"{name}\"");

        return new FunctionBinding(Required("name"), Required("type"), Required("direction"), properties.GetValueOrDefault("dataType"), properties, methods, json);
    }
}

/// <param name="Id">The worker's function id (the host's key for loads and invocations).</param>
/// <param name="TriggerType">The trigger binding's type: "httpTrigger", "queueTrigger", ….</param>
/// <param name="Route">HTTP: the route as declared (the function name when none), without the prefix.</param>
/// <param name="Methods">HTTP: upper-case methods; empty means every method.</param>
/// <param name="QueueName">Queue trigger: the queue name with %SETTING% resolved.</param>
public sealed record EmulatedFunction(
    string Name,
    string Id,
    string EntryPoint,
    string ScriptFile,
    IReadOnlyList<FunctionBinding> Bindings,
    string TriggerType,
    string? Route,
    IReadOnlyList<string> Methods,
    string? QueueName)
{
    public IReadOnlyList<string> RawBindings => [.. Bindings.Select(b => b.Json)];

    public FunctionBinding Trigger => Bindings.First(b => b.IsTrigger);

    public bool IsHttp => TriggerType.Equals("httpTrigger", StringComparison.OrdinalIgnoreCase);

    public bool IsQueue => TriggerType.Equals("queueTrigger", StringComparison.OrdinalIgnoreCase);

    internal static EmulatedFunction FromRpc(Rpc.RpcFunctionMetadata metadata, AppSettings settings)
    {
        var bindings = metadata.RawBindings.Select(FunctionBinding.Parse).ToList();
        var trigger = bindings.FirstOrDefault(b => b.IsTrigger)
            ?? throw new InvalidOperationException($"function {metadata.Name} has no trigger binding: {string.Join(", ", metadata.RawBindings)}");
        var isHttp = trigger.Type.Equals("httpTrigger", StringComparison.OrdinalIgnoreCase);
        var isQueue = trigger.Type.Equals("queueTrigger", StringComparison.OrdinalIgnoreCase);
        var route = trigger.Property("route");
        return new EmulatedFunction(
            metadata.Name,
            metadata.FunctionId,
            metadata.EntryPoint,
            metadata.ScriptFile,
            bindings,
            trigger.Type,
            isHttp ? (string.IsNullOrEmpty(route) ? metadata.Name : route) : null,
            isHttp ? trigger.Methods : [],
            isQueue ? settings.Resolve(trigger.Property("queueName") ?? "", $"function {metadata.Name}, queueTrigger queueName") : null);
    }
}
