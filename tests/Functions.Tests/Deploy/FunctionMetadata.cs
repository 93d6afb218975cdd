// The function list the Functions host loads, as the build generated it: the Worker SDK writes
// functions.metadata into a Functions app's output from the [Function] and trigger/binding
// attributes (the host does not index an isolated worker's code itself), so the deployment is
// checked against the file the host will read. Read from the tree's build output of the
// configuration these tests were built in (tests run after `dotnet build Nixery.sln -c <cfg>`).
using System.Text.Json;
using Nixery.TestSupport;

namespace Nixery.Functions.Tests.Deploy;

/// <summary>One binding of a function: its type, direction and the properties the host reads.</summary>
public sealed record FunctionBinding(string Type, string Direction, IReadOnlyDictionary<string, string> Properties, IReadOnlyList<string> Methods);

/// <summary>One function of functions.metadata.</summary>
public sealed record FunctionMetadata(string Name, IReadOnlyList<FunctionBinding> Bindings)
{
    /// <summary>The function's trigger binding (a function has exactly one).</summary>
    public FunctionBinding Trigger => Bindings.Single(b => b.Type.EndsWith("Trigger", StringComparison.Ordinal));

    /// <summary>The functions of a Functions app under src/ (Functions or Worker), from its build output.</summary>
    public static IReadOnlyList<FunctionMetadata> Load(string app) => Parse(BuiltFile(app, "functions.metadata"));

    /// <summary>A file of a Functions app's build output, in the configuration and target framework
    /// of this test assembly; fails with the command that makes it when it is missing.</summary>
    public static string BuiltFile(string app, string file)
    {
        // This assembly runs from tests/Functions.Tests/bin/<configuration>/<framework>/.
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = framework.Parent!.Name;
        var path = Path.Combine(RepoPaths.Root, "src", app, "bin", configuration, framework.Name, file);
        return File.Exists(path)
            ? path
            : throw new Xunit.Sdk.XunitException(
                $"{Path.GetRelativePath(RepoPaths.Root, path)} is missing: the Functions SDK writes it when src/{app} is built; run `dotnet build Nixery.sln -c {configuration}` first.");
    }

    public static IReadOnlyList<FunctionMetadata> Parse(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return [.. document.RootElement.EnumerateArray().Select(function => new FunctionMetadata(
            function.GetProperty("name").GetString()!,
            [.. function.GetProperty("bindings").EnumerateArray().Select(binding => new FunctionBinding(
                binding.GetProperty("type").GetString()!,
                binding.GetProperty("direction").GetString()!,
                binding.EnumerateObject()
                    .Where(p => p.Value.ValueKind == JsonValueKind.String)
                    .ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal),
                binding.TryGetProperty("methods", out var methods)
                    ? [.. methods.EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant())]
                    : []))]))];
    }
}
