// The registry's HTTP app: the embedded default (filesystem storage, in-process queue and
// worker) when run on its own; the same app behind Azure Functions as a custom handler.
using Nixery.Functions.Hosting;

var app = RegistryApp.Create(args, overrides: null, out var error);
if (app is null)
{
    await Console.Error.WriteLineAsync(error);
    return 2;
}

app.LogStartup();
await app.RunAsync();
return 0;
