// The build function app on the Azure Functions .NET isolated worker: the queue-triggered
// build (BuildFunction.cs) over the build library (src/Builder). Also
//   dotnet Nixery.Worker.dll popularity …   popularity data for the layer grouper (PopularityCommand)
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Nixery.Builder;
using Nixery.Builder.PopularityData;
using Nixery.Core;
using Nixery.Core.Options;
using Nixery.Worker;

if (args is [PopularityCommand.Name, ..])
{
    return await PopularityCommand.RunAsync(args[1..], Console.Out, Console.Error, CancellationToken.None);
}

var builder = FunctionsApplication.CreateBuilder(args);
if (!RegistryOptions.TryFromConfiguration(builder.Configuration, RegistryPart.BuildFunctions, out var options, out var error))
{
    await Console.Error.WriteLineAsync(error);
    return 2;
}

// No console logger: the worker's logs reach the Functions host over its gRPC channel, and
// the host writes them where the platform collects them (a console logger would say it twice).
builder.Services.AddRegistryStorage(options);
builder.Services.AddBuilder(options);
builder.Services.AddSingleton(QueueSettings.Read(builder.Configuration));
using var host = builder.Build();
await host.RunAsync();
return 0;
