// The build queue in the cloud, as the HTTP side sees it: it sends jobs to an Azure Storage
// Queue (default "nixery-builds"), creating it and its poison queue ("nixery-builds-poison")
// when missing. The build function app consumes the queue through the Functions queue
// trigger (src/Worker), which keeps a message invisible while its build runs, retries a
// build that throws, and moves a message to the poison queue after host.json's
// maxDequeueCount; nothing here receives. Message format: BuildMessages.
using Azure.Storage.Queues;
using Nixery.Core.Queue;

namespace Nixery.Core.Azure;

public sealed class AzureStorageQueue : IBuildQueue
{
    private readonly QueueClient _queue;
    private readonly QueueClient _poison;
    private readonly Lock _gate = new();
    private Task? _created;

    /// <summary>Uses <paramref name="service"/>'s queues named by the options. The client must
    /// use <see cref="QueueMessageEncoding.None"/> (the default, and what
    /// <see cref="AzureQueueOptions.CreateServiceClient"/> makes): this class encodes itself.</summary>
    public AzureStorageQueue(QueueServiceClient service, AzureQueueOptions options)
    {
        options.Validate();
        _queue = service.GetQueueClient(options.QueueName);
        _poison = service.GetQueueClient(options.PoisonQueueName);
    }

    public string Name => "azure-queue";

    /// <summary>Jobs live in the storage account, not in this process.</summary>
    public bool IsDurable => true;

    /// <summary>Creates the queue and the poison queue if missing; done once, before the first
    /// enqueue, and tried again if it failed. Not called at start-up: a process must start
    /// while the account is unreachable (issue 16).</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_created is null || _created.IsFaulted || _created.IsCanceled)
            {
                _created = CreateQueuesAsync();
            }

            return _created.WaitAsync(cancellationToken);
        }
    }

    private async Task CreateQueuesAsync()
    {
        await _queue.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None);
        await _poison.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None);
    }

    public async Task EnqueueAsync(BuildJob job, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken);
        await _queue.SendMessageAsync(BuildMessages.Encode(job), cancellationToken);
    }
}
