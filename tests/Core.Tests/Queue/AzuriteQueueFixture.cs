// One Azurite (tests/TestSupport/Azurite: port 0, ready when it says where it listens) for
// the Azure queue tests; each test then uses a queue name of its own.
using Azure.Storage.Queues;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Queue;

public sealed class AzuriteQueueFixture : IAsyncLifetime
{
    private Azurite? _azurite;

    public string ConnectionString => Emulator.ConnectionString;

    public int QueuePort => Emulator.QueuePort;

    public QueueServiceClient Service => new(ConnectionString);

    private Azurite Emulator => _azurite ?? throw new InvalidOperationException("Azurite has not started");

    public async Task InitializeAsync() => _azurite = await Azurite.StartAsync();

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteQueueCollection : ICollectionFixture<AzuriteQueueFixture>
{
    public const string Name = "Azurite queue";
}
