// The storage-queue trigger of one function, as the host's QueueListener and QueueProcessor
// run it (azure-sdk-for-net sdk/storage/Microsoft.Azure.WebJobs.Extensions.Storage.Common/src/
// Shared/Queues/QueueListener.cs, QueueProcessor.cs; Microsoft.Azure.WebJobs.Extensions.Storage.
// Queues/src/Triggers/QueueTriggerBinding.cs for the trigger metadata).
//
// Poll loop:
//   1. while more than newBatchThreshold messages are in flight, wait for one to finish;
//   2. if the queue is not known to exist, ask (a missing queue is backed off, never created);
//   3. receive up to batchSize messages, invisible for the listener's visibility (10 min in the
//      host; FunctionsHostOptions.QueueVisibility here), and start each;
//   4. nothing received: wait PollingBackoff's delay (up to maxPollingInterval), then poll again;
//      something received: poll again as soon as step 1 allows.
// Per message:
//   - dequeued more than maxDequeueCount times already: to <queue>-poison, no invocation;
//   - invoke with the decoded text as input and the trigger metadata, keeping the message
//     invisible (MessageLease) while the invocation runs;
//   - success: delete. Failure: dequeue count >= maxDequeueCount → add to <queue>-poison, delete;
//     else visible again after host.json's visibilityTimeout. Without a poison queue (the queue
//     is one) a failed message stays invisible, as in the host, to avoid a fast loop.
// When the emulator stops or its worker dies, in-flight messages are abandoned: no delete, no
// release; they reappear when their visibility lapses, as after an instance crash.
using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Nixery.FunctionsHost.Rpc;

namespace Nixery.FunctionsHost;

internal sealed class QueueListener : IAsyncDisposable
{
    private readonly EmulatedFunction _function;
    private readonly QueueClient _queue;
    private readonly QueueClient? _poison;
    private readonly QueuesSettings _settings;
    private readonly TimeSpan _visibility;
    private readonly FunctionInvoker _invoker;
    private readonly InvocationJournal _journal;
    private readonly HostLog _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _processing = [];
    private Task _loop = Task.CompletedTask;

    public QueueListener(EmulatedFunction function, QueueClients clients, QueuesSettings settings, TimeSpan visibility, FunctionInvoker invoker, InvocationJournal journal, HostLog log)
    {
        _function = function;
        var where = $"function {function.Name}, queueTrigger";
        var connection = function.Trigger.Property("connection");
        _queue = clients.Queue(connection, function.QueueName!, where);
        _poison = QueueClients.PoisonQueueName(function.QueueName!) is { } poison ? clients.Queue(connection, poison, where) : null;
        _settings = settings;
        _visibility = visibility;
        _invoker = invoker;
        _journal = journal;
        _log = log;
    }

    public void Start()
    {
        _log.Write("host", $"queue.listening function={_function.Name} queue={_queue.Name} batchSize={_settings.BatchSize} newBatchThreshold={_settings.NewBatchThreshold} maxDequeueCount={_settings.MaxDequeueCount} visibility={_visibility}");
        _loop = Task.Run(PollAsync);
    }

    /// <summary>Stops polling; messages whose invocation is still running will be abandoned
    /// (see the file comment). Their invocations end when the worker answers or goes.</summary>
    public void Stop() => _stop.Cancel();

    public async ValueTask DisposeAsync()
    {
        Stop();
        await _loop;
        Task[] processing;
        lock (_processing)
        {
            processing = [.. _processing];
        }

        // _stop stays undisposed: a late Stop() (the worker's exit) may still cancel it.
        await Task.WhenAll(processing);
    }

    private async Task PollAsync()
    {
        var backoff = new PollingBackoff(QueuesSettings.MinimumPollingInterval, _settings.MaxPollingInterval);
        var foundSinceDelay = false;
        bool? exists = null;
        var polls = 0;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await WaitForNewBatchThresholdAsync();
                QueueMessage[] batch = [];
                try
                {
                    exists = exists == true || await _queue.ExistsAsync(_stop.Token);
                    if (exists == true)
                    {
                        batch = (await _queue.ReceiveMessagesAsync(_settings.BatchSize, _visibility, _stop.Token)).Value;
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Any storage error, or the service unreachable (Azure.Core's AggregateException
                    // after its retries): forget whether the queue exists and back off.
                    exists = null;
                    _log.Write("host", $"queue.poll-failed function={_function.Name} queue={_queue.Name} error=\"{e.GetType().Name}: {e.Message.Split('\n')[0]}\"");
                }

                _log.Write("host", $"queue.polled function={_function.Name} queue={_queue.Name} poll={++polls} exists={exists == true} received={batch.Length}");
                if (batch.Length == 0)
                {
                    await Task.Delay(backoff.Next(foundSinceDelay), _stop.Token);
                    foundSinceDelay = false;
                    continue;
                }

                foundSinceDelay = true;
                lock (_processing)
                {
                    _processing.AddRange(batch.Select(message => Task.Run(() => ProcessAsync(message))));
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Stopped.
        }
    }

    private async Task WaitForNewBatchThresholdAsync()
    {
        while (true)
        {
            Task[] processing;
            lock (_processing)
            {
                _processing.RemoveAll(t => t.IsCompleted);
                processing = [.. _processing];
            }

            if (processing.Length <= _settings.NewBatchThreshold)
            {
                return;
            }

            await Task.WhenAny(processing).WaitAsync(_stop.Token);
        }
    }

    private async Task ProcessAsync(QueueMessage message)
    {
        try
        {
            await ProcessOrThrowAsync(message);
        }
        catch (Exception e)
        {
            // The host reports these to its exception handler; the message is left as it is.
            _log.Write("host", $"queue.process-failed function={_function.Name} queue={_queue.Name} id={message.MessageId} error=\"{e.GetType().Name}: {e.Message.Split('\n')[0]}\"");
        }
    }

    private async Task ProcessOrThrowAsync(QueueMessage message)
    {
        _log.Write("host", $"queue.received function={_function.Name} queue={_queue.Name} id={message.MessageId} dequeueCount={message.DequeueCount}");
        if (message.DequeueCount > _settings.MaxDequeueCount)
        {
            await PoisonAsync(message, message.PopReceipt, $"dequeueCount {message.DequeueCount} > maxDequeueCount {_settings.MaxDequeueCount}");
            return;
        }

        var lease = new MessageLease(_queue, message, _visibility, _function.Name, _log);
        var invocationId = Guid.NewGuid().ToString();
        InvocationResult result;
        using (var renewing = new CancellationTokenSource())
        {
            var renewal = lease.RenewAsync(renewing.Token);
            result = await _invoker.InvokeAsync(_function, invocationId, [Input(message)], TriggerMetadata(message), null, CancellationToken.None);
            await renewing.CancelAsync();
            await renewal;
        }

        string completion;
        try
        {
            completion = await CompleteAsync(lease, result);
        }
        catch (RequestFailedException e)
        {
            completion = $"failed ({e.Status} {e.ErrorCode})";
        }

        _journal.Add(new InvocationRecord(_function.Name, invocationId, result.Succeeded, result.Message, message.DequeueCount, message.MessageId, completion));
    }

    private async Task<string> CompleteAsync(MessageLease lease, InvocationResult result)
    {
        var message = lease.Message;
        if (_stop.IsCancellationRequested || result.WorkerGone)
        {
            return "abandoned";
        }

        if (result.Succeeded)
        {
            return await DeleteAsync(message.MessageId, lease.PopReceipt) ? "deleted" : "lost";
        }

        if (_poison is null)
        {
            return "left-invisible";
        }

        if (message.DequeueCount >= _settings.MaxDequeueCount)
        {
            await PoisonAsync(message, lease.PopReceipt, $"failed at dequeueCount {message.DequeueCount} = maxDequeueCount");
            return "poisoned";
        }

        try
        {
            await _queue.UpdateMessageAsync(message.MessageId, lease.PopReceipt, visibilityTimeout: _settings.VisibilityTimeout);
            _log.Write("host", $"queue.released function={_function.Name} queue={_queue.Name} id={message.MessageId} visibleIn={_settings.VisibilityTimeout}");
            return "released";
        }
        catch (RequestFailedException e) when (e.Status is 400 or 404)
        {
            return "lost";
        }
    }

    private async Task PoisonAsync(QueueMessage message, string popReceipt, string reason)
    {
        if (_poison is null)
        {
            return;
        }

        await _poison.CreateIfNotExistsAsync();
        await _poison.SendMessageAsync(message.Body);
        await DeleteAsync(message.MessageId, popReceipt);
        _log.Write("host", $"queue.poisoned function={_function.Name} queue={_queue.Name} poisonQueue={_poison.Name} id={message.MessageId} dequeueCount={message.DequeueCount} reason=\"{reason}\"");
    }

    // A pop-receipt mismatch means someone else owns the message now; a 404 that it is gone.
    private async Task<bool> DeleteAsync(string id, string popReceipt)
    {
        try
        {
            await _queue.DeleteMessageAsync(id, popReceipt);
            _log.Write("host", $"queue.deleted function={_function.Name} queue={_queue.Name} id={id}");
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 400 or 404)
        {
            _log.Write("host", $"queue.delete-lost function={_function.Name} queue={_queue.Name} id={id} status={e.Status} code={e.ErrorCode}");
            return false;
        }
    }

    private ParameterBinding Input(QueueMessage message)
    {
        var binary = string.Equals(_function.Trigger.DataType, "Binary", StringComparison.OrdinalIgnoreCase);
        return new ParameterBinding
        {
            Name = _function.Trigger.Name,
            Data = binary ? new TypedData { Bytes = Google.Protobuf.ByteString.CopyFrom(message.Body.ToArray()) } : new TypedData { String = message.Body.ToString() },
        };
    }

    // The binding data of QueueTriggerBinding.CreateBindingData, converted as the host's
    // GrpcMessageConversionExtensions.ToRpc converts values: strings as string, everything else
    // (the long dequeue count, the DateTimeOffsets) as JSON. "sys" (MethodName, UtcNow,
    // RandGuid) is not sent: the host skips SystemBindingData
    // (src/WebJobs.Script.Grpc/Extensions/ScriptInvocationContextExtensions.cs ShouldSkipBindingData).
    private static Dictionary<string, TypedData> TriggerMetadata(QueueMessage message)
    {
        static TypedData Json<T>(T value) => new() { Json = JsonSerializer.Serialize(value) };
        var metadata = new Dictionary<string, TypedData>
        {
            ["DequeueCount"] = new TypedData { Json = message.DequeueCount.ToString(CultureInfo.InvariantCulture) },
            ["ExpirationTime"] = Json(message.ExpiresOn ?? DateTimeOffset.MaxValue),
            ["Id"] = new TypedData { String = message.MessageId },
            ["InsertionTime"] = Json(message.InsertedOn ?? DateTimeOffset.UtcNow),
            ["NextVisibleTime"] = Json(message.NextVisibleOn ?? DateTimeOffset.MaxValue),
            ["PopReceipt"] = new TypedData { String = message.PopReceipt },
        };
        try
        {
            metadata["QueueTrigger"] = new TypedData { String = new System.Text.UTF8Encoding(false, true).GetString(message.Body.ToArray()) };
        }
        catch (System.Text.DecoderFallbackException)
        {
            // Not a string: the host leaves QueueTrigger out too (QueueMessage.TryGetAsString).
        }

        return metadata;
    }
}
