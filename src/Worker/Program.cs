// The build function app on the Azure Functions .NET isolated worker: the queue-triggered
// build (BuildFunction.cs) over the build library (src/Builder). A wrong setting stops it
// before it takes a job, with one sentence per setting (Settings.Check). Also
//   dotnet Nixery.Worker.dll popularity …   popularity data for the layer grouper (PopularityCommand)
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Nixery.Builder;
using Nixery.Builder.PopularityData;
using Nixery.Core.Azure;
using Nixery.Core.Options;
using Nixery.Core.Storage;
using Nixery.Worker;

if (args is [PopularityCommand.Name, ..])
{
    return await PopularityCommand.RunAsync(args[1..], Console.Out, Console.Error, StoreComputedPopularityAsync, CancellationToken.None);
}

var builder = FunctionsApplication.CreateBuilder(args);
builder.Configuration.Normalise();
if (Settings.Problems(builder.Configuration, [.. StorageRegistration.StorageSettings(builder.Configuration), typeof(StatusOptions), .. BuilderServiceCollectionExtensions.SettingTypes]) is { } error)
{
    await Console.Error.WriteLineAsync(error);
    return 2;
}

// No console logger: the worker's logs reach the Functions host over its gRPC channel, and
// the host writes them where the platform collects them (a console logger would say it twice).
builder.Services.AddRegistryStorage(builder.Configuration);
builder.Services.AddBuilder();
builder.Services.AddSingleton(QueueSettings.Read(builder.Configuration));
builder.Services.AddRegistryTelemetry(builder.Configuration, "nixery-worker", hostDefaults: otel => otel.UseFunctionsWorkerDefaults());
using var host = builder.Build();
await host.RunAsync();
return 0;

// `popularity --store`: computed.json into the storage this app's settings name.
static async Task<string?> StoreComputedPopularityAsync(byte[] json, CancellationToken ct)
{
    var config = new ConfigurationManager();
    config.AddEnvironmentVariables();
    config.Normalise();
    if (Settings.Problems(config, StorageRegistration.StorageSettings(config)) is { } problems)
    {
        return problems;
    }

    var services = new ServiceCollection().AddSingleton<IConfiguration>(config).AddLogging();
    services.AddRegistryStorage(config);
    await using var provider = services.BuildServiceProvider();
    await new PopularityStore(provider.GetRequiredService<IStorageBackend>()).PutComputedAsync(json, ct);
    return null;
}
