// What the emulator remembers of each invocation it sent, in the order they finished: the
// statement a test checks ("the failing function ran three times, then its message was
// poisoned"), alongside the log.
namespace Nixery.FunctionsHost;

/// <param name="Message">Why it failed (the worker's exception message, the timeout, the worker's exit); null when it succeeded.</param>
/// <param name="DequeueCount">Queue trigger: the message's dequeue count for this attempt.</param>
/// <param name="QueueMessageId">Queue trigger: the message's id.</param>
/// <param name="Completion">Queue trigger: what became of the message ("deleted", "released", "poisoned", "abandoned"); HTTP: the status answered.</param>
public sealed record InvocationRecord(
    string FunctionName,
    string InvocationId,
    bool Succeeded,
    string? Message,
    long? DequeueCount,
    string? QueueMessageId,
    string? Completion);

internal sealed class InvocationJournal(HostLog log)
{
    private readonly List<InvocationRecord> _records = [];
    private readonly Lock _gate = new();

    public IReadOnlyList<InvocationRecord> Records
    {
        get
        {
            lock (_gate)
            {
                return [.. _records];
            }
        }
    }

    public void Add(InvocationRecord record)
    {
        lock (_gate)
        {
            _records.Add(record);
        }

        var dequeue = record.DequeueCount is { } count ? $" dequeueCount={count} messageId={record.QueueMessageId}" : "";
        var why = record.Message is null ? "" : $" message=\"{record.Message.Split('\n')[0]}\"";
        log.Write("host", $"invocation.completed function={record.FunctionName} invocationId={record.InvocationId} outcome={(record.Succeeded ? "succeeded" : "failed")}{dequeue} completion={record.Completion}{why}");
    }
}
