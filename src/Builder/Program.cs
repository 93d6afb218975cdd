// Entry point of the worker host (WorkerHost): dotnet Nixery.Builder.dll
using Microsoft.Extensions.Hosting;
using Nixery.Builder;

using var host = WorkerHost.Create(args, out var error);
if (host is null)
{
    await Console.Error.WriteLineAsync(error);
    return 2;
}

await host.RunAsync();
return 0;
