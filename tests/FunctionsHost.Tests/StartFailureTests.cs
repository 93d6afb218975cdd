// A start that cannot succeed fails with a sentence that says why, and with the log (the
// worker's own output among it), rather than hanging until the start timeout.
namespace Nixery.FunctionsHost.Tests;

public sealed class StartFailureTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("emulator-start-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task FolderWithoutWorkerConfigIsRefused()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => FunctionsHost.StartAsync(new FunctionsHostOptions { AppDirectory = _dir }));

        Assert.Equal($"{_dir}/worker.config.json is missing: the app directory must be a Functions app build or publish output (Microsoft.Azure.Functions.Worker.Sdk writes worker.config.json).", error.Message);
    }

    [Fact]
    public async Task WorkerThatExitsWhileStartingFailsTheStartWithItsOutput()
    {
        File.WriteAllText(Path.Combine(_dir, "worker.config.json"), """
            { "description": { "language": "dotnet-isolated", "defaultExecutablePath": "sh", "defaultWorkerPath": "worker.sh" } }
            """);
        File.WriteAllText(Path.Combine(_dir, "worker.sh"), "echo \"no worker here: $*\" >&2\nexit 3\n");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => FunctionsHost.StartAsync(new FunctionsHostOptions { AppDirectory = _dir, Name = "exits" }));

        Assert.StartsWith($"Functions host emulator ({_dir}): the worker exited with code 3 while starting; the log:", error.Message, StringComparison.Ordinal);
        // It was started with the host's command line, and what it printed is in the message.
        Assert.Matches(@"stderr no worker here: --host 127\.0\.0\.1 --port \d+ --workerId [0-9a-f-]{36} --requestId [0-9a-f-]{36} --grpcMaxMessageLength 2147483647 --functions-uri http://127\.0\.0\.1:\d+/ --functions-worker-id [0-9a-f-]{36} --functions-request-id [0-9a-f-]{36} --functions-grpc-max-message-length 2147483647", error.Message);
    }

    [Fact]
    public async Task UnresolvedQueueNameStopsTheStartNamingTheSetting()
    {
        var settings = new Dictionary<string, string> { ["SampleStorage"] = "UseDevelopmentStorage=true", ["RECORD_QUEUE"] = "r", ["SLOW_QUEUE"] = "s" };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => FunctionsHost.StartAsync(new FunctionsHostOptions { AppDirectory = SampleApp.Directory, AppSettings = settings, Name = "unresolved" }));

        Assert.Contains("function flaky, queueTrigger queueName: '%FLAKY_QUEUE%' does not resolve to a value: add the app setting FLAKY_QUEUE.", error.Message, StringComparison.Ordinal);
        Assert.Contains("host worker.initialized", error.Message, StringComparison.Ordinal);
    }
}
