// Entry point of the worker host (WorkerHost): dotnet Nixery.Builder.dll
// or, to compute popularity data: dotnet Nixery.Builder.dll popularity … (PopularityCommand).
using Microsoft.Extensions.Hosting;
using Nixery.Builder;
using Nixery.Builder.PopularityData;

if (args.Length > 0 && args[0] == PopularityCommand.Name)
{
    return await PopularityCommand.RunAsync(args[1..], Console.Out, Console.Error, CancellationToken.None);
}

using var host = WorkerHost.Create(args, out var error);
if (host is null)
{
    await Console.Error.WriteLineAsync(error);
    return 2;
}

await host.RunAsync();
return 0;
