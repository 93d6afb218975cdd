// The registry's HTTP function app on the Azure Functions .NET isolated worker, with the
// ASP.NET Core integration (the host forwards each request to this process's Kestrel). The
// functions are in Registry/RegistryApi.cs; the embedded default runs the same ones. Its logs
// reach the host over the worker's gRPC channel (no console logger of its own). A wrong
// setting stops it before it serves, with one sentence per setting (Settings.Check).
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Hosting;
using Nixery.Core.Azure;
using Nixery.Core.Options;
using Nixery.Functions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Configuration.Normalise();
if (Settings.Problems(builder.Configuration, [.. RegistryHosting.SettingTypes(builder.Configuration), typeof(AzureQueueOptions)]) is { } error)
{
    await Console.Error.WriteLineAsync(error);
    return 2;
}

builder.Services.AddRegistryHttp(builder.Configuration);
builder.Services.AddAzureBuildQueue();
builder.Services.AddRegistryTelemetry(builder.Configuration, "nixery-registry", hostDefaults: otel => otel.UseFunctionsWorkerDefaults());
using var host = builder.Build();
host.LogStartup();
await host.RunAsync();
return 0;
