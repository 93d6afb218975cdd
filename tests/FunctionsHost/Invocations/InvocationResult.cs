// The host's verdict on one InvocationRequest: the worker's answer, or why there was none.
using Nixery.FunctionsHost.Rpc;

namespace Nixery.FunctionsHost;

/// <param name="WorkerGone">No answer because the worker exited or its stream broke.</param>
internal sealed record InvocationResult(bool Succeeded, string? Message, InvocationResponse? Response, bool WorkerGone = false)
{
    public static InvocationResult Failed(string message) => new(false, message, null);

    public static InvocationResult Gone(string message) => new(false, message, null, WorkerGone: true);

    public static InvocationResult From(InvocationResponse response) =>
        response.Result?.Status == StatusResult.Types.Status.Success
            ? new InvocationResult(true, null, response)
            : new InvocationResult(false, Describe(response.Result), response);

    private static string Describe(StatusResult? result) =>
        result is null ? "the worker sent no result"
        : result.Exception is { } e ? $"{result.Status}: {e.Type} {e.Message}".Replace("  ", " ", StringComparison.Ordinal)
        : $"{result.Status}: {result.Result}";
}
