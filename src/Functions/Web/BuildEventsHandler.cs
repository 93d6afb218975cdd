// GET /events: the builds of the BuildBoard as Server-Sent Events, for the landing page's live
// progress (its inline script's EventSource). One event per build that changed since the last
// one this stream sent:
//   event: build
//   data: {"key":"<image key>","image":"git/shell","state":"building","phase":"packing layers",
//          "layersReady":3,"layersTotal":7,"layersBytes":1048576,"updated":"…","reason":null}
// The JSON is written by System.Text.Json's default encoder, which escapes < > & ' " as \uXXXX,
// so a hostile image name or reason never appears as markup in the stream either; the page's
// script puts every field in with textContent.
// https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
//
// The stream polls the board every PollEvery (the board itself refreshes at most once a
// second per instance, whatever the number of streams), sends a comment every KeepAlive so
// proxies keep the idle connection, and ends after StreamFor: the Azure Functions front end
// cuts an HTTP request after 230 s, and EventSource reconnects by itself after the `retry`
// delay, when the stream sends every build again (the page's script updates rows in place).
// https://learn.microsoft.com/azure/azure-functions/functions-scale#timeout
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;

namespace Nixery.Functions.Web;

public sealed class BuildEventsHandler(BuildBoard board, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<BuildEventsHandler> logger)
{
    public static readonly TimeSpan PollEvery = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static readonly TimeSpan StreamFor = TimeSpan.FromSeconds(200);

    /// <summary>Milliseconds EventSource waits before it reconnects.</summary>
    public const int RetryMilliseconds = 2000;

    public async Task HandleAsync(HttpContext context)
    {
        // The stream also ends when the app stops, so an open page never holds up a shutdown.
        using var stream = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var ct = stream.Token;
        // Read once before answering, so that a storage outage is a 503, not a broken stream.
        var builds = await board.GetAsync(ct);

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        var sent = new Dictionary<string, BuildView>(StringComparer.Ordinal);
        var started = time.GetUtcNow();
        var written = started;
        try
        {
            await WriteAsync(response, $"retry: {RetryMilliseconds}\n\n", ct);
            while (true)
            {
                var events = new StringBuilder();
                // Oldest first: the page puts each new build on top, so the newest ends there.
                foreach (var build in builds.Reverse())
                {
                    if (!sent.TryGetValue(build.Key, out var before) || before != build)
                    {
                        events.Append("event: build\ndata: ").Append(JsonSerializer.Serialize(build, WebJson.Default.BuildView)).Append("\n\n");
                        sent[build.Key] = build;
                    }
                }

                var now = time.GetUtcNow();
                if (events.Length == 0 && now - written >= KeepAlive)
                {
                    events.Append(": keep-alive\n\n");
                }

                if (events.Length > 0)
                {
                    await WriteAsync(response, events.ToString(), ct);
                    written = now;
                }

                if (now - started >= StreamFor)
                {
                    return;
                }

                await Task.Delay(PollEvery, time, ct);
                builds = await board.GetAsync(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The page went away.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Headers are sent: end the stream; EventSource reconnects after the retry delay.
            logger.LogWarning("ending a build event stream: {Error}", e.Message);
        }
    }

    private static async Task WriteAsync(HttpResponse response, string text, CancellationToken ct)
    {
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
        await response.Body.FlushAsync(ct);
    }
}
