// host.json as the emulator reads it: the host's defaults when a setting is absent, the
// app's values when present, and a sentence naming the setting when a value is wrong.
namespace Nixery.FunctionsHost.Tests;

public sealed class HostJsonTests
{
    [Fact]
    public void EmptyHostJsonGivesTheHostsDefaults()
    {
        var read = HostJson.Parse("{}", "host.json");

        Assert.Equal(
            new HostJson("api", new QueuesSettings(16, 16 / 2 * Environment.ProcessorCount, 5, TimeSpan.Zero, TimeSpan.FromMinutes(1), Base64: true), TimeSpan.FromMinutes(30)),
            read);
    }

    [Fact]
    public void ValuesAreReadCaseInsensitively()
    {
        var read = HostJson.Parse("""
            {
              "version": "2.0",
              "FunctionTimeout": "00:10:00",
              "extensions": {
                "http": { "routePrefix": "" },
                "queues": { "batchSize": 1, "newBatchThreshold": 0, "MaxDequeueCount": 2,
                            "visibilityTimeout": "00:00:30", "maxPollingInterval": "00:00:02",
                            "messageEncoding": "none" }
              }
            }
            """, "host.json");

        Assert.Equal(new HostJson("", new QueuesSettings(1, 0, 2, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(2), Base64: false), TimeSpan.FromMinutes(10)), read);
    }

    [Fact]
    public void MinusOneMeansNoFunctionTimeout() =>
        Assert.Null(HostJson.Parse("""{ "functionTimeout": "-1" }""", "host.json").FunctionTimeout);

    [Theory]
    [InlineData("""{ "extensions": { "queues": { "batchSize": 33 } } }""", "batchSize")]
    [InlineData("""{ "extensions": { "queues": { "maxPollingInterval": "00:00:00.050" } } }""", "maxPollingInterval")]
    [InlineData("""{ "extensions": { "queues": { "messageEncoding": "utf8" } } }""", "messageEncoding")]
    [InlineData("""{ "functionTimeout": "soon" }""", "functionTimeout")]
    public void WrongValueIsRefusedNamingTheSetting(string json, string setting)
    {
        var error = Assert.Throws<InvalidOperationException>(() => HostJson.Parse(json, "app/host.json"));

        Assert.StartsWith("app/host.json: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
    }
}
