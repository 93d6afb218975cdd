// One registry on the embedded default (filesystem storage, in-process queue and worker,
// the offline Debian package set), shared by the pull tests of a class, with its Nix
// client counted. Client settings are the defaults a user gets, so skopeo and podman
// meet the real 429-and-retry behaviour on a cold build.
using Microsoft.Extensions.DependencyInjection;
using Nixery.Builder.Nix;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests;

public sealed class RegistryFixture : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("nixery-e2e-").FullName;

    public RegistryInstance Registry { get; private set; } = null!;

    public CountingNixClient Nix { get; private set; } = null!;

    public string WorkDir(string name) => Directory.CreateDirectory(Path.Combine(_root, name)).FullName;

    public async Task InitializeAsync()
    {
        Registry = await RegistryInstance.StartAsync(Path.Combine(_root, "storage"), configureServices: services =>
            services.AddSingleton<INixClient>(sp =>
            {
                Nix = new CountingNixClient(ActivatorUtilities.CreateInstance<NixClient>(sp));
                return Nix;
            }));
        // The worker resolves INixClient at start, so Nix is set once StartAsync returns.
        _ = Registry.Services.GetRequiredService<INixClient>();
    }

    public async Task DisposeAsync()
    {
        await Registry.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class PullCollection : ICollectionFixture<RegistryFixture>
{
    public const string Name = "pulls from one registry";
}
