// The host's gRPC endpoint: Kestrel on a free loopback port, HTTP/2 without TLS (h2c, prior
// knowledge), serving FunctionRpc.EventStream for the one worker this emulator starts.
// Host: src/WebJobs.Script.Grpc/Server/AspNetCoreGrpcHostBuilder.cs (Kestrel, 127.0.0.1,
// HttpProtocols.Http2) and Server/Startup.cs (message sizes int.MaxValue both ways).
using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nixery.FunctionsHost.Rpc;

namespace Nixery.FunctionsHost;

internal sealed class FunctionRpcServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FunctionRpcServer(WebApplication app, Uri uri)
    {
        _app = app;
        Uri = uri;
    }

    /// <summary>http://127.0.0.1:&lt;port&gt;/, as the worker is told (--functions-uri).</summary>
    public Uri Uri { get; }

    public static async Task<FunctionRpcServer> StartAsync(WorkerChannel channel, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(options =>
        {
            options.MaxReceiveMessageSize = WorkerProcess.MaxMessageLength;
            options.MaxSendMessageSize = WorkerProcess.MaxMessageLength;
        });
        builder.Services.AddSingleton(channel);
        var app = builder.Build();
        app.MapGrpcService<EventStreamService>();
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var port = new Uri(address).Port;
        return new FunctionRpcServer(app, new Uri($"http://127.0.0.1:{port}/"));
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }

    private sealed class EventStreamService(WorkerChannel channel) : FunctionRpc.FunctionRpcBase
    {
        public override Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context) =>
            channel.RunAsync(requestStream, responseStream, context.CancellationToken);
    }
}
