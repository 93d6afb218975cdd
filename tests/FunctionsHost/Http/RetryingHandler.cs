// Retries a request to the worker whose connection failed (HttpRequestException): the
// worker's Kestrel may still be starting when the first request arrives. Up to 10 attempts,
// waiting 50 ms, doubling to at most 250 ms, as the host's RetryProxyHandler
// (src/WebJobs.Script.Grpc/Server/RetryProxyHandler.cs).
namespace Nixery.FunctionsHost;

internal sealed class RetryingHandler(HttpMessageHandler inner, HostLog log) : DelegatingHandler(inner)
{
    private const int MaxAttempts = 10;
    private const int InitialDelayMs = 50;
    private const int MaximumDelayMs = 250;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var delay = InitialDelayMs;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await base.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException e) when (attempt < MaxAttempts)
            {
                log.Write("host", $"http.retry attempt={attempt} of={MaxAttempts} delayMs={delay} error=\"{e.Message}\"");
                await Task.Delay(delay, cancellationToken);
                delay = Math.Min(delay * 2, MaximumDelayMs);
            }
        }
    }
}
