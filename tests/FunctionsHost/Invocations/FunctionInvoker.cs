// Sends one InvocationRequest and waits for its InvocationResponse, as the host's channel does
// (src/WebJobs.Script.Grpc/Channel/GrpcWorkerChannel.cs SendInvocationRequest, InvokeResponse),
// then applies the queue output bindings of a successful answer.
//
// Every request carries a W3C trace context (the worker dereferences it unconditionally:
// DotNetWorker.Grpc/GrpcFunctionInvocation.cs); the host's is its current Activity, which for
// HTTP continues the caller's "traceparent" header, so HTTP requests pass theirs in.
//
// functionTimeout (host.json): the host fails the invocation with "Timeout value of … exceeded"
// and then restarts the whole host and its worker. The emulator fails the invocation the same
// way, sends InvocationCancel when the worker handles it (capability
// HandlesInvocationCancelMessage), logs it, and keeps the worker running: it does not restart.
using System.Diagnostics;
using Nixery.FunctionsHost.Rpc;

namespace Nixery.FunctionsHost;

internal sealed class FunctionInvoker(WorkerChannel channel, QueueOutputBindings outputs, TimeSpan? functionTimeout, HostLog log)
{
    public async Task<InvocationResult> InvokeAsync(EmulatedFunction function, string invocationId, IEnumerable<ParameterBinding> inputs, IDictionary<string, TypedData> triggerMetadata, string? traceParent, CancellationToken cancellationToken)
    {
        var request = new InvocationRequest
        {
            InvocationId = invocationId,
            FunctionId = function.Id,
            TraceContext = TraceContext(traceParent),
        };
        request.InputData.AddRange(inputs);
        request.TriggerMetadata.Add(triggerMetadata);
        log.Write("host", $"invocation.started function={function.Name} invocationId={invocationId} traceParent={request.TraceContext.TraceParent}");

        InvocationResult result;
        try
        {
            var response = channel.InvokeAsync(request, cancellationToken);
            result = InvocationResult.From(functionTimeout is { } timeout ? await response.WaitAsync(timeout, cancellationToken) : await response);
        }
        catch (TimeoutException)
        {
            if (channel.Capabilities.ContainsKey("HandlesInvocationCancelMessage"))
            {
                channel.Send(new StreamingMessage { InvocationCancel = new InvocationCancel { InvocationId = invocationId } });
            }

            var message = $"Timeout value of {functionTimeout} exceeded by function 'Functions.{function.Name}' (Id: '{invocationId}'); the real host would now restart, the emulator keeps the worker";
            log.Write("host", $"invocation.timeout function={function.Name} invocationId={invocationId} functionTimeout={functionTimeout}");
            return InvocationResult.Failed(message);
        }
        catch (WorkerGoneException e)
        {
            return InvocationResult.Gone(e.Message);
        }

        if (result.Succeeded && result.Response is { } answer)
        {
            try
            {
                await outputs.WriteAsync(function, answer, cancellationToken);
            }
            catch (Exception e) when (e is Azure.RequestFailedException or InvalidOperationException or FormatException)
            {
                return InvocationResult.Failed($"output binding failed: {e.Message}");
            }
        }

        return result;
    }

    private static RpcTraceContext TraceContext(string? traceParent)
    {
        var parent = traceParent is not null && ActivityContext.TryParse(traceParent, null, out var context) ? context : default;
        var traceId = parent.TraceId == default ? ActivityTraceId.CreateRandom() : parent.TraceId;
        return new RpcTraceContext
        {
            TraceParent = $"00-{traceId.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-00",
            TraceState = parent.TraceState ?? "",
        };
    }
}
