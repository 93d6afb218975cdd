// One Azurite and one emulated host running the sample app, shared by the tests of a class
// that only send requests and messages to it.
using Nixery.TestSupport;

namespace Nixery.FunctionsHost.Tests;

public sealed class SampleHostFixture : IAsyncLifetime
{
    public Azurite Azurite { get; private set; } = null!;

    public FunctionsHost Host { get; private set; } = null!;

    public IReadOnlyDictionary<string, string> Settings { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Azurite = await Azurite.StartAsync();
        Settings = SampleApp.Settings(Azurite, "shared");
        await SampleApp.CreateQueuesAsync(Azurite, Settings);
        Host = await FunctionsHost.StartAsync(new FunctionsHostOptions { AppDirectory = SampleApp.Directory, AppSettings = Settings });
        Client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { BaseAddress = Host.BaseAddress };
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        if (Azurite is not null)
        {
            await Azurite.DisposeAsync();
        }
    }
}
