// The embedded default: the registry in one process (EmbeddedApp). `scripts/start` runs it.
using Nixery.Embedded;

var app = EmbeddedApp.Create(args, overrides: null, out var error);
if (app is null)
{
    await Console.Error.WriteLineAsync(error);
    return 2;
}

app.LogStartup();
await app.RunAsync();
return 0;
