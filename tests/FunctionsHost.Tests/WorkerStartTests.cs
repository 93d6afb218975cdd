// The worker starts under the emulator as under the host, and what it reports over gRPC is
// what its build wrote to functions.metadata. The .NET worker reports its functions from the
// metadata provider the Worker SDK's source generator compiled into the app rather than from
// the file: the same functions and bindings, in its own order, without the file's empty
// "properties" objects, and with an http "$return" output on every HTTP function.
using System.Text.Json.Nodes;

namespace Nixery.FunctionsHost.Tests;

public sealed class WorkerStartTests(SampleHostFixture fixture) : IClassFixture<SampleHostFixture>
{
    private const string HttpReturn = """{"name":"$return","type":"http","direction":"Out"}""";

    [Fact]
    public void FunctionsAreThoseOfFunctionsMetadata()
    {
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(SampleApp.Directory, "functions.metadata")))!.AsArray();
        var expected = file.Select(f => (
            Name: (string)f!["name"]!,
            EntryPoint: (string)f["entryPoint"]!,
            ScriptFile: (string)f["scriptFile"]!,
            Bindings: f["bindings"]!.AsArray().Select(b => Canonical(b!)).Order(StringComparer.Ordinal).ToList()))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
        var reported = fixture.Host.Functions.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();

        Assert.Equal(["boom", "echo", "files", "flaky", "record", "redirect", "slow"], reported.Select(f => f.Name));
        Assert.Equal(expected.Select(f => f.Name), reported.Select(f => f.Name));
        foreach (var (want, got) in expected.Zip(reported))
        {
            var bindings = got.RawBindings.Select(b => Canonical(JsonNode.Parse(b)!)).ToList();
            var extra = got.IsHttp && !want.Bindings.Contains(Canonical(JsonNode.Parse(HttpReturn)!)) ? [Canonical(JsonNode.Parse(HttpReturn)!)] : Array.Empty<string>();

            Assert.Equal((want.Name, want.EntryPoint, want.ScriptFile), (got.Name, got.EntryPoint, got.ScriptFile));
            Assert.Equal(want.Bindings.Concat(extra).Order(StringComparer.Ordinal), bindings.Order(StringComparer.Ordinal));
            Assert.False(string.IsNullOrEmpty(got.Id));
        }
    }

    [Fact]
    public void TriggersAreReadFromTheBindings()
    {
        var files = fixture.Host.Functions.Single(f => f.Name == "files");
        var record = fixture.Host.Functions.Single(f => f.Name == "record");

        Assert.Equal(("httpTrigger", "files/{*path}", "GET,HEAD", (string?)null), (files.TriggerType, files.Route, string.Join(',', files.Methods), files.QueueName));
        Assert.Equal(("queueTrigger", (string?)null, 0, "record-shared"), (record.TriggerType, record.Route, record.Methods.Count, record.QueueName));
        Assert.Equal(("message", "String", "SampleStorage"), (record.Trigger.Name, record.Trigger.DataType, record.Trigger.Property("connection")));
        var output = record.Bindings.Single(b => b.IsOutput);
        Assert.Equal(("$return", "queue", "%RECORD_QUEUE%-out"), (output.Name, output.Type, output.Property("queueName")));
    }

    [Fact]
    public void WorkerReportsTheAspNetCoreIntegrationsAddress()
    {
        Assert.StartsWith("http://localhost:", fixture.Host.WorkerCapabilities["HttpUri"], StringComparison.Ordinal);
        Assert.False(fixture.Host.WorkerExited);
        Assert.Equal(1, fixture.Host.CountLines(@"host host\.started functions=7$"));
    }

    // A binding's JSON with its properties sorted and the empty "properties" object dropped.
    private static string Canonical(JsonNode binding)
    {
        var sorted = new JsonObject();
        foreach (var (name, value) in binding.AsObject().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!(name == "properties" && value is JsonObject { Count: 0 }))
            {
                sorted[name] = value?.DeepClone();
            }
        }

        return sorted.ToJsonString();
    }
}
