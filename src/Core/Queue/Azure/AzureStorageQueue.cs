// The build queue in the cloud: an Azure Storage Queue (default "nixery-builds") and its
// poison queue ("nixery-builds-poison"), both created when missing.
//
// Message format
//   The message text is Base64 of the UTF-8 JSON of a BuildJob (CoreJson.Default.BuildJob):
//     eyJ2ZXJzaW9uIjoxLCJqb2JJZCI6Ii4uLiIsImltYWdlS2V5IjoiLi4uIiwi…
//   Base64 because that is what the rest of the Azure tooling expects: the Functions queue
//   trigger decodes Base64 by default (host.json "messageEncoding": "base64") and poisons what
//   it cannot decode, the v11 SDK encoded by default (CloudQueue.EncodeMessage), Storage
//   Explorer encodes the messages it adds; KEDA's azure-queue scaler only counts messages.
//   Base64 costs nothing there, while raw JSON would break the Functions trigger. The encoding is done here, with the SDK client at
//   QueueMessageEncoding.None, rather than by setting QueueMessageEncoding.Base64 on the
//   client: the wire text is the same, but the SDK's own decoder throws (or raises an event
//   that has to be wired when the client is built) on a message it cannot decode, before we
//   see its id and pop receipt, and then the message could not be moved to the poison queue.
//   Here a message that is not Base64, not UTF-8, not JSON, not a BuildJob, or of a version
//   this code does not read goes to the poison queue with the reason, and ReceiveAsync goes
//   on to the next message: one bad producer never stops the workers.
//
// Receiving and renewal
//   ReceiveAsync polls ReceiveMessage(visibility); an empty poll waits 250 ms, doubling to 5 s,
//   and the wait starts again at 250 ms after a message (each poll is a billed transaction).
//   A receive cancelled while its request is in flight may already have hidden a message:
//   that message comes back after V, like a crashed worker's.
//   A received message is invisible to other workers for the visibility timeout V (default
//   300 s). A build can take longer, so the lease renews: every V/3 it calls
//   UpdateMessage(id, popReceipt, visibility: V), which pushes the time the message becomes
//   visible again to now + V and returns a NEW pop receipt, which the lease keeps; the old
//   one stops working. Two missed renewals still leave the message hidden. Renewal stops
//   when the lease is settled or disposed, or when the service answers 404 (message gone) or
//   400 (pop receipt mismatch): the message became visible, another worker took it, and this
//   lease has lost it. Then the lease logs a warning and cancels its Lost token; the build in
//   hand may finish (it is idempotent) but settling it is a no-op on the service. Other
//   renewal failures (network, 5xx) are logged and retried at the next tick.
//
// Settling (each at most once; a second call does nothing)
//   Complete    DeleteMessage(id, current pop receipt).
//   Abandon     UpdateMessage(id, pop receipt, visibility: 0): visible again now, for another
//               worker (a worker shutting down gives its job back). DequeueCount goes up.
//   DeadLetter  sends Base64 JSON {"job": <original message text>, "reason": …, "dequeueCount": n}
//               to the poison queue, then deletes the original.
//   A settle that fails at the service is logged, not thrown: the message then simply comes
//   back after at most V, which is the at-least-once path the builds already handle.
//
// At-least-once, and what it means for builds
//   A job can be handed out more than once: a worker dies (no renewal, the message returns
//   after V with DequeueCount + 1), a renewal is late, a delete fails. So two workers may
//   build the same image, one after the other or even at once. That is safe because every
//   write of a build is content-addressed (blobs) or conditional (the image index entry), so
//   the second build uploads the same bytes. DequeueCount counts deliveries; the worker
//   dead-letters a job delivered more than NIXERY_MAX_DEQUEUE times (BuildWorker's policy)
//   so a build that kills its worker every time does not loop forever.
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Nixery.Core.Manifests;

namespace Nixery.Core.Queue.Azure;

public sealed class AzureStorageQueue : IBuildQueue, IAsyncDisposable
{
    // The service's limit on message text (64 KiB).
    private const int MaxMessageChars = 64 * 1024;

    private readonly QueueClient _queue;
    private readonly QueueClient _poison;
    private readonly AzureQueueOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<AzureBuildLease, byte> _leases = new();
    private readonly Lock _gate = new();
    private Task? _created;

    /// <summary>Uses <paramref name="service"/>'s queues named by the options. The client must
    /// use <see cref="QueueMessageEncoding.None"/> (the default, and what
    /// <see cref="AzureQueueOptions.CreateServiceClient"/> makes): this class encodes itself.</summary>
    public AzureStorageQueue(QueueServiceClient service, AzureQueueOptions options, ILogger? logger = null)
        : this(service.GetQueueClient(options.QueueName), service.GetQueueClient(options.PoisonQueueName), options, logger)
    {
    }

    public AzureStorageQueue(QueueClient queue, QueueClient poison, AzureQueueOptions options, ILogger? logger = null)
    {
        options.Validate();
        _queue = queue;
        _poison = poison;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    public string Name => "azure-queue";

    /// <summary>Jobs live in the storage account, not in this process.</summary>
    public bool IsDurable => true;

    public AzureQueueOptions Options => _options;

    /// <summary>Creates the queue and the poison queue if missing; done once, before the first
    /// enqueue or receive, and tried again if it failed. Call it at start-up to fail early.</summary>
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
        await _queue.SendMessageAsync(Encode(JsonSerializer.Serialize(job, CoreJson.Default.BuildJob)), cancellationToken);
    }

    /// <summary>Waits for the next valid job, moving invalid messages to the poison queue on the
    /// way. Storage failures are logged and retried after the longest poll delay, so a worker
    /// loop survives an outage; only cancellation ends the wait.</summary>
    public async Task<IBuildLease> ReceiveAsync(CancellationToken cancellationToken)
    {
        var delay = _options.MinPollDelay;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            QueueMessage? message;
            try
            {
                await EnsureCreatedAsync(cancellationToken);
                message = (await _queue.ReceiveMessageAsync(_options.Visibility, cancellationToken)).Value;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                _logger.LogWarning(e, "receiving from queue {Queue} failed; trying again in {Delay}", _queue.Name, _options.MaxPollDelay);
                await Task.Delay(_options.MaxPollDelay, cancellationToken);
                continue;
            }

            if (message is null)
            {
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxPollDelay.Ticks));
                continue;
            }

            delay = _options.MinPollDelay;
            var dequeueCount = (int)Math.Min(message.DequeueCount, int.MaxValue);
            var (job, text, reason) = Decode(message.MessageText);
            if (job is not null)
            {
                var lease = new AzureBuildLease(this, message.MessageId, message.PopReceipt, text, job, dequeueCount);
                _leases.TryAdd(lease, 0);
                lease.StartRenewal();
                return lease;
            }

            _logger.LogWarning("message {MessageId} on queue {Queue} is not a build job this worker reads, moving it to {Poison}: {Reason}", message.MessageId, _queue.Name, _poison.Name, reason);
            await DeadLetterAsync(message.MessageId, message.PopReceipt, text, reason, dequeueCount, cancellationToken);
        }
    }

    /// <summary>Stops renewing every lease this queue handed out, without settling them, as if
    /// the process had died: their messages come back after the visibility timeout.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var lease in _leases.Keys)
        {
            await lease.DisposeAsync();
        }
    }

    private static string Encode(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The job, or null with the reason; <c>Text</c> is the decoded text when the
    /// message was Base64 of UTF-8, else the message text as it came.</summary>
    private static (BuildJob? Job, string Text, string Reason) Decode(string messageText)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(Convert.FromBase64String(messageText));
        }
        catch (FormatException)
        {
            return (null, messageText, "the message text is not Base64");
        }
        catch (ArgumentException)
        {
            return (null, messageText, "the message text is Base64 but not UTF-8");
        }

        try
        {
            using (var document = JsonDocument.Parse(text))
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return (null, text, $"the message is JSON {document.RootElement.ValueKind}, not a build job object");
                }

                if (!document.RootElement.TryGetProperty("version", out var version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var number))
                {
                    return (null, text, "the message has no whole-number \"version\", so it is not a build job");
                }

                if (number != BuildJob.CurrentVersion)
                {
                    return (null, text, $"build job version {number} is not understood by this worker (it reads version {BuildJob.CurrentVersion})");
                }
            }

            var job = JsonSerializer.Deserialize(text, CoreJson.Default.BuildJob);
            if (job is null || job.JobId is null || job.ImageKey is null || job.Image?.Name is null || job.Image.Packages is null || job.Image.Arch is null || job.Source is null)
            {
                return (null, text, "the message is a JSON object but lacks fields a build job needs (jobId, imageKey, image, source)");
            }

            return (job, text, "");
        }
        catch (JsonException e)
        {
            return (null, text, $"the message is not a valid build job: {e.Message}");
        }
    }

    /// <summary>Sends the record to the poison queue, then deletes the original. On a storage
    /// failure it logs and returns: the message comes back after the visibility timeout and is
    /// dead-lettered again then.</summary>
    private async Task DeadLetterAsync(string messageId, string popReceipt, string text, string reason, int dequeueCount, CancellationToken cancellationToken)
    {
        try
        {
            await _poison.SendMessageAsync(EncodeDeadLetter(text, reason, dequeueCount), cancellationToken);
            await _queue.DeleteMessageAsync(messageId, popReceipt, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            _logger.LogError(e, "could not move message {MessageId} from {Queue} to {Poison}; it comes back after the visibility timeout", messageId, _queue.Name, _poison.Name);
        }
    }

    private static string EncodeDeadLetter(string text, string reason, int dequeueCount)
    {
        // A message near the size limit does not fit once wrapped and encoded again: keep the
        // start of it, which is enough to tell what it was.
        var job = text;
        while (true)
        {
            var encoded = Encode(JsonSerializer.Serialize(new DeadLetterRecord(job, reason, dequeueCount), AzureQueueJson.Default.DeadLetterRecord));
            if (encoded.Length <= MaxMessageChars || job.Length == 0)
            {
                return encoded;
            }

            job = job[..(job.Length / 2)];
            reason = reason.EndsWith(" (job text truncated)", StringComparison.Ordinal) ? reason : reason + " (job text truncated)";
        }
    }

    /// <summary>A received job. Renews the message's invisibility in the background until it is
    /// settled or disposed. If the service says the message is no longer ours (taken by another
    /// worker after a missed renewal, or deleted), <see cref="Lost"/> is cancelled and settling
    /// does nothing at the service.</summary>
    public sealed class AzureBuildLease : IBuildLease, IAsyncDisposable
    {
        private readonly AzureStorageQueue _owner;
        private readonly string _text;
        private readonly CancellationTokenSource _stopRenewal = new();
        private readonly CancellationTokenSource _lost = new();
        private string _popReceipt;
        private Task _renewal = Task.CompletedTask;
        private int _settled;

        internal AzureBuildLease(AzureStorageQueue owner, string messageId, string popReceipt, string text, BuildJob job, int dequeueCount)
        {
            _owner = owner;
            MessageId = messageId;
            _popReceipt = popReceipt;
            _text = text;
            Job = job;
            DequeueCount = dequeueCount;
        }

        public BuildJob Job { get; }

        public int DequeueCount { get; }

        public string MessageId { get; }

        /// <summary>Cancelled when renewal finds the message gone or taken by another worker.</summary>
        public CancellationToken Lost => _lost.Token;

        internal void StartRenewal() => _renewal = Task.Run(RenewAsync, CancellationToken.None);

        private async Task RenewAsync()
        {
            var visibility = _owner._options.Visibility;
            var interval = visibility / 3;
            try
            {
                while (true)
                {
                    await Task.Delay(interval, _stopRenewal.Token);
                    try
                    {
                        // Not cancellable once sent: the reply carries the pop receipt every
                        // later call needs, so a settle waits for it rather than racing it.
                        var receipt = await _owner._queue.UpdateMessageAsync(MessageId, _popReceipt, (string?)null, visibility, CancellationToken.None);
                        _popReceipt = receipt.Value.PopReceipt;
                    }
                    catch (RequestFailedException e) when (e.Status is 404 or 400)
                    {
                        _owner._logger.LogWarning("lost message {MessageId} of job {JobId} on {Queue} ({Status} {Code}): another worker may be building it; renewal stopped", MessageId, Job.JobId, _owner._queue.Name, e.Status, e.ErrorCode);
                        await _lost.CancelAsync();
                        return;
                    }
                    catch (Exception e)
                    {
                        _owner._logger.LogWarning(e, "renewing message {MessageId} of job {JobId} on {Queue} failed; trying again in {Interval}", MessageId, Job.JobId, _owner._queue.Name, interval);
                    }
                }
            }
            catch (OperationCanceledException) when (_stopRenewal.IsCancellationRequested)
            {
                // Settled or disposed.
            }
        }

        private async Task StopRenewalAsync()
        {
            await _stopRenewal.CancelAsync();
            await _renewal;
        }

        /// <summary>True for the first settle only; stops renewal and waits for one in flight,
        /// so the pop receipt used next is the current one.</summary>
        private async Task<bool> BeginSettleAsync()
        {
            if (Interlocked.Exchange(ref _settled, 1) == 1)
            {
                return false;
            }

            await StopRenewalAsync();
            _owner._leases.TryRemove(this, out _);
            return true;
        }

        public async Task CompleteAsync(CancellationToken cancellationToken)
        {
            if (!await BeginSettleAsync())
            {
                return;
            }

            try
            {
                await _owner._queue.DeleteMessageAsync(MessageId, _popReceipt, cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                _owner._logger.LogWarning(e, "could not delete message {MessageId} of job {JobId} from {Queue}; the job may run again", MessageId, Job.JobId, _owner._queue.Name);
            }
        }

        public async Task AbandonAsync(CancellationToken cancellationToken)
        {
            if (!await BeginSettleAsync())
            {
                return;
            }

            try
            {
                await _owner._queue.UpdateMessageAsync(MessageId, _popReceipt, (string?)null, TimeSpan.Zero, cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                _owner._logger.LogWarning(e, "could not give message {MessageId} of job {JobId} back to {Queue}; it comes back after the visibility timeout", MessageId, Job.JobId, _owner._queue.Name);
            }
        }

        public async Task DeadLetterAsync(string reason, CancellationToken cancellationToken)
        {
            if (!await BeginSettleAsync())
            {
                return;
            }

            _owner._logger.LogWarning("moving job {JobId} ({MessageId}) from {Queue} to {Poison} after {DequeueCount} deliveries: {Reason}", Job.JobId, MessageId, _owner._queue.Name, _owner._poison.Name, DequeueCount, reason);
            await _owner.DeadLetterAsync(MessageId, _popReceipt, _text, reason, DequeueCount, cancellationToken);
        }

        /// <summary>Stops renewal without settling, as a crash would: unless settled later (which
        /// still works while no other worker has taken it), the message comes back after the
        /// visibility timeout with its DequeueCount one higher.</summary>
        public async ValueTask DisposeAsync()
        {
            await StopRenewalAsync();
            _owner._leases.TryRemove(this, out _);
        }
    }
}

/// <summary>What the poison queue holds (Base64 JSON, like the main queue): the original
/// message text (decoded when it was Base64 UTF-8), why it was moved, and how often it had
/// been handed out.</summary>
public sealed record DeadLetterRecord(
    [property: JsonPropertyName("job")] string Job,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("dequeueCount")] int DequeueCount);

[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(DeadLetterRecord))]
internal sealed partial class AzureQueueJson : JsonSerializerContext;
