// A received queue message the listener holds: its latest pop receipt (every visibility
// update hands out a new one, and delete/update need the latest; the host keeps it with
// QueueMessage.Update(UpdateReceipt)), kept current by the renewal loop while the invocation
// runs.
//
// Renewal, as the host's UpdateQueueMessageVisibilityCommand with LinearSpeedupStrategy
// (azure-sdk-for-net sdk/storage/Microsoft.Azure.WebJobs.Extensions.Storage.Common/src/Shared/
// UpdateQueueMessageVisibilityCommand.cs, Timers/LinearSpeedupStrategy.cs, Queues/QueueListener.cs
// CreateUpdateMessageVisibilityTimer):
//   first update at half the visibility, then every half visibility after a success;
//   after a server error (5xx, or the service unreachable) the interval halves, down to QueueListener's
//   MinimumVisibilityRenewalInterval of 1 min (here: 1 min or the normal interval, whichever is
//   smaller, as the emulator's visibility can be shorter than 2 min);
//   a pop-receipt mismatch or a deleted message or queue ends the renewals: the message is lost.
// The update itself is not cancelled when the invocation ends, only the wait before the next
// one: an update cut off in flight could change the pop receipt without our knowing it.
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace Nixery.FunctionsHost;

internal sealed class MessageLease(QueueClient queue, QueueMessage message, TimeSpan visibility, string functionName, HostLog log)
{
    private static readonly TimeSpan MinimumRenewalInterval = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private string _popReceipt = message.PopReceipt;

    public QueueMessage Message => message;

    public string PopReceipt
    {
        get
        {
            lock (_gate)
            {
                return _popReceipt;
            }
        }
    }

    /// <summary>Keeps the message invisible until <paramref name="stop"/> is cancelled.</summary>
    public async Task RenewAsync(CancellationToken stop)
    {
        var normal = visibility / 2;
        var minimum = normal < MinimumRenewalInterval ? normal : MinimumRenewalInterval;
        var wait = normal;
        var renewals = 0;
        while (true)
        {
            try
            {
                await Task.Delay(wait, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                UpdateReceipt receipt = await queue.UpdateMessageAsync(message.MessageId, PopReceipt, visibilityTimeout: visibility, cancellationToken: CancellationToken.None);
                lock (_gate)
                {
                    _popReceipt = receipt.PopReceipt;
                }

                wait = normal;
                log.Write("host", $"queue.renewed function={functionName} queue={queue.Name} id={message.MessageId} renewal={++renewals} nextVisible={receipt.NextVisibleOn:O}");
            }
            catch (Exception e) when (e is RequestFailedException { Status: >= 500 } or AggregateException or HttpRequestException)
            {
                wait = new TimeSpan(Math.Max(wait.Ticks / 2, minimum.Ticks));
                log.Write("host", $"queue.renewal-failed function={functionName} queue={queue.Name} id={message.MessageId} error=\"{e.Message.Split('\n')[0]}\" retryIn={wait}");
            }
            catch (RequestFailedException e)
            {
                log.Write("host", $"queue.renewal-lost function={functionName} queue={queue.Name} id={message.MessageId} status={e.Status} code={e.ErrorCode}");
                return;
            }
        }
    }
}
