// The sample's queue-triggered functions: one that records each message it gets on an output
// queue (with the trigger metadata it saw), one that throws for messages containing "fail",
// and one that holds its message until the test creates the file the message names.
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace Nixery.FunctionsHost.Sample;

public static class QueueFunctions
{
    public const string Connection = "SampleStorage";

    /// <summary>Writes "{message}|{DequeueCount}|{Id}" to the queue "%RECORD_QUEUE%-out".</summary>
    [Function("record")]
    [QueueOutput("%RECORD_QUEUE%-out", Connection = Connection)]
    public static string Record([QueueTrigger("%RECORD_QUEUE%", Connection = Connection)] string message, FunctionContext context)
    {
        var data = context.BindingContext.BindingData;
        return $"{message}|{data["DequeueCount"]}|{data["Id"]}";
    }

    [Function("flaky")]
    public static void Flaky([QueueTrigger("%FLAKY_QUEUE%", Connection = Connection)] string message, FunctionContext context)
    {
        if (message.Contains("fail", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"flaky refuses '{message}'");
        }

        context.GetLogger("flaky").LogInformation("flaky accepted {Message}", message);
    }

    /// <summary>The message is a file path; returns once that file exists.</summary>
    [Function("slow")]
    public static async Task Slow([QueueTrigger("%SLOW_QUEUE%", Connection = Connection)] string message, FunctionContext context)
    {
        context.GetLogger("slow").LogInformation("slow waiting for {Path}", message);
        await Signals.WaitForFileAsync(message, context.CancellationToken);
        context.GetLogger("slow").LogInformation("slow released by {Path}", message);
    }
}
