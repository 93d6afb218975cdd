// The host's HTTP front for an app with the ASP.NET Core integration (worker capability
// HttpUri): Kestrel, HTTP/1.1, on a free loopback port. A request that matches a function's
// route (FunctionRoutes) becomes an invocation:
//   1. a new invocation id, added to the request as the header x-ms-invocation-id
//      (ScriptConstants.HttpProxyCorrelationHeader; the worker pairs the request with the
//      invocation by it: Worker.Extensions.Http.AspNetCore/src/AspNetMiddleware/
//      WorkerRequestServicesMiddleware.cs);
//   2. forwarding of the request to the worker's HttpUri starts, with YARP's IHttpForwarder
//      and its default transform (hop-by-hop headers and Host dropped, X-Forwarded-For/-Host/
//      -Proto added), the response streamed back as it arrives; a connection refused is
//      retried (RetryingHandler);
//   3. then the InvocationRequest goes out, the http input an empty RpcHttp and the trigger
//      metadata the route values, query values, "Query" and "Headers" (the host sends a
//      minimal RpcHttp to a proxying worker: GrpcMessageConversionExtensions.ToRpcHttp;
//      HttpTriggerAttributeBindingProvider.GetRequestBindingData for the rest);
//   4. the invocation is done when both the forwarding and the InvocationResponse are (the
//      worker answers the invocation only after its function returns, often after the body is
//      written). A forwarding error or a failed invocation becomes 500 if nothing was sent yet.
// Host: src/WebJobs.Script.Grpc/Server/DefaultHttpProxyService.cs (StartForwarding before the
// InvocationRequest, EnsureSuccessfulForwardingAsync after the response, ActivityTimeout 240 s),
// src/WebJobs.Script.Grpc/Channel/GrpcWorkerChannel.cs (SendInvocationRequest, InvokeResponse),
// src/WebJobs.Script.WebHost/Program.cs (request bodies up to 100 MB).
// Not emulated: authorization levels and keys (every function is served as anonymous),
// EasyAuth, CORS, the front end's 230 s request timeout, the admin and warm-up routes.
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nixery.FunctionsHost.Rpc;
using Yarp.ReverseProxy.Forwarder;

namespace Nixery.FunctionsHost;

internal sealed class HttpFront : IAsyncDisposable
{
    public const string InvocationIdHeader = "x-ms-invocation-id";

    private const long MaxRequestBodySize = 104857600;

    private readonly WebApplication _app;
    private readonly HttpMessageInvoker _client;

    private HttpFront(WebApplication app, HttpMessageInvoker client, Uri baseAddress)
    {
        _app = app;
        _client = client;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static async Task<HttpFront> StartAsync(IReadOnlyList<EmulatedFunction> functions, string routePrefix, Uri workerHttpUri, FunctionInvoker invoker, InvocationJournal journal, HostLog log, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = MaxRequestBodySize;
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1);
        });
        builder.Services.AddRouting();
        builder.Services.AddHttpForwarder();
        var app = builder.Build();

        // As the host's DefaultHttpProxyService: no redirects followed, no cookie container; and
        // no proxy from the environment for a loopback hop.
        var client = new HttpMessageInvoker(new RetryingHandler(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, UseProxy = false }, log));
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        var config = new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(240) };
        var router = FunctionRoutes.Build(functions, routePrefix, app.Services.GetRequiredService<IInlineConstraintResolver>(), (context, function) =>
            InvokeAsync(context, function, workerHttpUri, forwarder, client, config, invoker, journal, log));
        app.UseRouter(router);
        app.Run(context =>
        {
            log.Write("host", $"http.unmatched method={context.Request.Method} path={context.Request.Path} status=404");
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        await app.StartAsync(cancellationToken);
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return new HttpFront(app, client, new Uri($"http://127.0.0.1:{address.Port}/"));
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
        _client.Dispose();
    }

    private static async Task InvokeAsync(HttpContext context, EmulatedFunction function, Uri workerHttpUri, IHttpForwarder forwarder, HttpMessageInvoker client, ForwarderRequestConfig config, FunctionInvoker invoker, InvocationJournal journal, HostLog log)
    {
        var invocationId = Guid.NewGuid().ToString();
        var request = context.Request;
        request.Headers.TryAdd(InvocationIdHeader, invocationId);
        log.Write("host", $"http.matched method={request.Method} path={request.Path} function={function.Name} invocationId={invocationId}");

        var metadata = TriggerMetadata(context);
        var forwarding = forwarder.SendAsync(context, workerHttpUri.ToString(), client, config).AsTask();
        var input = new ParameterBinding { Name = function.Trigger.Name, Data = new TypedData { Http = new RpcHttp() } };
        var result = await invoker.InvokeAsync(function, invocationId, [input], metadata, request.Headers.TraceParent, CancellationToken.None);
        var error = await forwarding;

        var succeeded = result.Succeeded && error == ForwarderError.None;
        var message = error == ForwarderError.None ? result.Message : $"Failed to proxy request with ForwarderError: {error} {context.GetForwarderErrorFeature()?.Exception?.Message}";
        if (!succeeded && !context.Response.HasStarted)
        {
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        }

        journal.Add(new InvocationRecord(function.Name, invocationId, succeeded, succeeded ? null : message ?? result.Message, null, null, context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static Dictionary<string, TypedData> TriggerMetadata(HttpContext context)
    {
        var metadata = new Dictionary<string, TypedData>(StringComparer.OrdinalIgnoreCase);
        var query = context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in query.Where(q => !q.Key.Equals("code", StringComparison.OrdinalIgnoreCase)))
        {
            metadata[name] = new TypedData { String = value };
        }

        foreach (var (name, value) in context.GetRouteData().Values)
        {
            if (value is not null)
            {
                metadata[name] = new TypedData { String = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "" };
            }
        }

        metadata.TryAdd("Query", new TypedData { Json = JsonSerializer.Serialize(query) });
        metadata.TryAdd("Headers", new TypedData { Json = JsonSerializer.Serialize(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)) });
        return metadata;
    }
}
