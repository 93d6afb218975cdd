// The embedded default: the registry in one process (EmbeddedApp). `scripts/start` runs it;
// `hash-password [user]` prints a password hash for NIXERY_AUTH_USERS instead (HashPasswordCommand);
// `collect-garbage [--dry-run]` collects the storage once (CollectGarbageCommand).
using Nixery.Embedded;

if (args is ["hash-password", .. var rest])
{
    return await HashPasswordCommand.RunAsync(rest);
}

if (args is ["collect-garbage", .. var gcArgs])
{
    return await CollectGarbageCommand.RunAsync(gcArgs);
}

var app = EmbeddedApp.Create(args, overrides: null, out var error);
if (app is null)
{
    await Console.Error.WriteLineAsync(error);
    return 2;
}

app.LogStartup();
await app.RunAsync();
return 0;
