// Storage clients for the queues the functions name, one per connection string, encoding
// message bodies as host.json's extensions.queues.messageEncoding says (the host's
// QueueServiceClientProvider sets QueueClientOptions.MessageEncoding from QueuesOptions).
// A message the client cannot decode (not Base64 while the encoding is base64) never reaches
// a function: the host copies its raw text to the poison queue with a non-encoding client and
// deletes it (azure-sdk-for-net sdk/storage/Microsoft.Azure.WebJobs.Extensions.Storage.Queues/
// src/QueueServiceClientProvider.cs, MessageDecodingFailed handler); so does the emulator.
using Azure.Storage.Queues;

namespace Nixery.FunctionsHost;

internal sealed class QueueClients(AppSettings settings, QueuesSettings queues, HostLog log)
{
    private readonly Dictionary<string, QueueServiceClient> _clients = [];
    private readonly Lock _gate = new();

    /// <summary>The queue <paramref name="queueName"/> of the account that <paramref name="connection"/> names.</summary>
    public QueueClient Queue(string? connection, string queueName, string where)
    {
        var connectionString = settings.ConnectionString(connection, where);
        lock (_gate)
        {
            if (!_clients.TryGetValue(connectionString, out var client))
            {
                client = Create(connectionString);
                _clients[connectionString] = client;
            }

            return client.GetQueueClient(queueName);
        }
    }

    /// <summary>"&lt;queue&gt;-poison", or null where the host has none: the queue is itself a
    /// poison queue, or the name would pass 63 characters (QueueListenerFactory.CreatePoisonQueueReference).</summary>
    public static string? PoisonQueueName(string queueName) =>
        queueName.EndsWith("-poison", StringComparison.Ordinal) || queueName.Length + "-poison".Length > 63 ? null : queueName + "-poison";

    private QueueServiceClient Create(string connectionString)
    {
        var raw = new QueueServiceClient(connectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
        var options = new QueueClientOptions { MessageEncoding = queues.Base64 ? QueueMessageEncoding.Base64 : QueueMessageEncoding.None };
        options.MessageDecodingFailed += async args =>
        {
            if (args.ReceivedMessage is not { } message || PoisonQueueName(args.Queue.Name) is not { } poisonName)
            {
                return;
            }

            var poison = raw.GetQueueClient(poisonName);
            await poison.CreateIfNotExistsAsync(cancellationToken: args.CancellationToken);
            await poison.SendMessageAsync(message.Body, cancellationToken: args.CancellationToken);
            await args.Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, args.CancellationToken);
            log.Write("host", $"queue.poisoned queue={args.Queue.Name} id={message.MessageId} dequeueCount={message.DequeueCount} reason=undecodable");
        };
        return new QueueServiceClient(connectionString, options);
    }
}
