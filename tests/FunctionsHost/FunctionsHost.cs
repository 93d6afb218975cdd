// An emulator of the Azure Functions host (v4) running one .NET isolated-worker app, for tests
// on a machine where the real host cannot be installed. It does what the host does for such
// an app, in the host's order (host: src/WebJobs.Script.Grpc/Channel/GrpcWorkerChannel.cs):
//   1. reads worker.config.json and host.json from the app folder;
//   2. opens its gRPC endpoint (FunctionRpcServer) and starts the worker (WorkerProcess) with the
//      host's command line and environment;
//   3. on StartStream: WorkerInitRequest → WorkerInitResponse (the worker's capabilities, HttpUri
//      among them with the ASP.NET Core integration); FunctionsMetadataRequest →
//      FunctionMetadataResponse (worker indexing: the functions and their raw bindings);
//      one FunctionLoadRequest per function → FunctionLoadResponse;
//   4. serves: HTTP functions through the HTTP front (HttpFront), queue-triggered functions
//      through queue listeners (QueueListener), queue output bindings after each success.
// Not emulated (the tests own this emulator; each line is a difference from Azure):
//   - scale: one instance per emulator, no scale controller (start two emulators on one queue
//     for two instances), no dynamic concurrency, no drain mode;
//   - worker restarts: when the worker exits (or KillWorker), the emulator stops its queue
//     listeners and abandons in-flight messages, as if the whole instance had died; the host
//     would instead fail those invocations, release their messages and start a new worker;
//   - functionTimeout fails the invocation (and sends InvocationCancel) but does not restart;
//   - HTTP: function keys and authorization levels, EasyAuth, CORS, the front end's 230 s limit,
//     admin, warm-up and health endpoints; apps without the ASP.NET Core integration (HTTP data
//     inside RpcHttp) are refused at start;
//   - bindings: only queue triggers, HTTP triggers and queue outputs; other triggers are loaded
//     but never fire, other outputs are logged and skipped; retry policies are not applied;
//   - connections: connection strings only, identity-based connections are refused at start;
//   - placeholders/specialisation, shared memory transfer, worker status and warm-up messages,
//     several streams per worker (MultiStream), Application Insights / OpenTelemetry.
using Nixery.FunctionsHost.Rpc;

namespace Nixery.FunctionsHost;

public sealed class FunctionsHost : IAsyncDisposable
{
    /// <summary>The host release whose behaviour this emulator follows (sent as host_version).</summary>
    public const string HostVersion = "4.1037.0";

    private static readonly TimeSpan TerminateGrace = TimeSpan.FromSeconds(5);

    private readonly FunctionsHostOptions _options;
    private readonly HostLog _log;
    private readonly InvocationJournal _journal;
    private readonly WorkerChannel _channel;
    private readonly FunctionRpcServer _server;
    private readonly WorkerProcess _worker;
    private readonly List<QueueListener> _listeners = [];
    private HttpFront? _front;
    private bool _stopped;
    private int _disposed;

    private FunctionsHost(FunctionsHostOptions options, HostLog log, WorkerChannel channel, FunctionRpcServer server, WorkerProcess worker)
    {
        _options = options;
        _log = log;
        _journal = new InvocationJournal(log);
        _channel = channel;
        _server = server;
        _worker = worker;
    }

    /// <summary>The HTTP front (http://127.0.0.1:port/); null when the app has no HTTP function.</summary>
    public Uri? BaseAddress => _front?.BaseAddress;

    /// <summary>host:port of the HTTP front, as a registry reference for skopeo.</summary>
    public string? HostPort => _front is null ? null : $"{_front.BaseAddress.Host}:{_front.BaseAddress.Port}";

    /// <summary>The functions as the worker reported them over gRPC.</summary>
    public IReadOnlyList<EmulatedFunction> Functions { get; private set; } = [];

    /// <summary>Capabilities the worker reported in its WorkerInitResponse.</summary>
    public IReadOnlyDictionary<string, string> WorkerCapabilities => _channel.Capabilities;

    /// <summary>Every invocation that finished, in the order they finished.</summary>
    public IReadOnlyList<InvocationRecord> Invocations => _journal.Records;

    /// <summary>The host's lines, the worker's RpcLog lines and the worker's stdout/stderr.</summary>
    public string Log => _log.Text;

    public int WorkerProcessId => _worker.Id;

    public bool WorkerExited => _worker.HasExited;

    /// <summary>Starts the worker and returns once it is initialised and has loaded every
    /// function, with the HTTP front and queue listeners running. Throws with the log (the
    /// worker's output among it) when the worker fails, exits or exceeds StartTimeout.</summary>
    public static async Task<FunctionsHost> StartAsync(FunctionsHostOptions options, CancellationToken cancellationToken = default)
    {
        var appDirectory = Path.GetFullPath(options.AppDirectory);
        var log = new HostLog(options.Name);
        var config = WorkerConfig.Read(appDirectory);
        var hostJson = HostJson.Read(appDirectory);
        var settings = new Dictionary<string, string>(options.AppSettings, StringComparer.OrdinalIgnoreCase);
        settings.TryAdd("FUNCTIONS_WORKER_RUNTIME", "dotnet-isolated");
        settings.TryAdd("AzureWebJobsScriptRoot", appDirectory);

        var workerId = Guid.NewGuid().ToString();
        var channel = new WorkerChannel(workerId, log);
        var server = await FunctionRpcServer.StartAsync(channel, cancellationToken);
        log.Write("host", $"rpc.listening uri={server.Uri} hostVersion={HostVersion}");
        WorkerProcess worker;
        try
        {
            worker = WorkerProcess.Start(config, server.Uri, workerId, settings, log);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        var host = new FunctionsHost(options with { AppDirectory = appDirectory }, log, channel, server, worker);
        _ = worker.Exited.ContinueWith(_ => host.OnWorkerExited(), TaskScheduler.Default);
        try
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(options.StartTimeout);
            var start = host.InitializeAsync(config, hostJson, new AppSettings(settings), bound.Token);
            var first = await Task.WhenAny(start, worker.Exited);
            if (first != start)
            {
                throw new InvalidOperationException($"the worker exited with code {worker.Exited.Result} while starting");
            }

            await start;
            return host;
        }
        catch (Exception e)
        {
            var why = e is OperationCanceledException && !cancellationToken.IsCancellationRequested ? $"did not start within {options.StartTimeout}" : e.Message;
            await host.DisposeAsync();
            throw new InvalidOperationException($"Functions host emulator ({appDirectory}): {why}; the log:\n{host.Log}", e);
        }
    }

    /// <summary>How many lines of the log match <paramref name="pattern"/>.</summary>
    public int CountLines(string pattern) => _log.Count(pattern);

    /// <summary>The first line matching <paramref name="pattern"/>, already written or still to
    /// come; a condition to wait for, bounded by <paramref name="timeout"/>.</summary>
    public Task<string> WaitForLogAsync(string pattern, TimeSpan timeout) => _log.WaitForAsync(pattern, 1, timeout);

    /// <summary>The <paramref name="count"/>-th line matching <paramref name="pattern"/>.</summary>
    public Task<string> WaitForLogAsync(string pattern, int count, TimeSpan timeout) => _log.WaitForAsync(pattern, count, timeout);

    /// <summary>SIGKILL of the worker's process tree: a crash. The emulator stops listening to
    /// queues; messages being processed are abandoned and reappear when their visibility lapses.</summary>
    public void KillWorker()
    {
        _log.Write("host", $"worker.killing pid={_worker.Id}");
        StopListeners();
        _worker.Kill();
    }

    /// <summary>Stops the queue listeners (unfinished messages stay in their queue), asks the
    /// worker to stop (WorkerTerminate, then SIGTERM, then SIGKILL), and closes the endpoints.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        StopListeners();
        if (!_worker.HasExited && _channel.Capabilities.ContainsKey("HandlesWorkerTerminateMessage"))
        {
            _channel.Send(new StreamingMessage { WorkerTerminate = new WorkerTerminate { GracePeriod = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TerminateGrace) } });
            try
            {
                await _worker.Exited.WaitAsync(TerminateGrace);
            }
            catch (TimeoutException)
            {
                _log.Write("host", $"worker.terminate-ignored pid={_worker.Id} grace={TerminateGrace}");
            }
        }

        await _worker.StopAsync(TerminateGrace);
        _channel.Close("the host is stopping");
        foreach (var listener in _listeners.ToList())
        {
            await listener.DisposeAsync();
        }

        if (_front is not null)
        {
            await _front.DisposeAsync();
        }

        await _server.DisposeAsync();
        _worker.Dispose();
        _log.Write("host", "host.stopped");
        _log.Close("the host stopped");
    }

    private async Task InitializeAsync(WorkerConfig config, HostJson hostJson, AppSettings settings, CancellationToken cancellationToken)
    {
        await _channel.Connected.WaitAsync(cancellationToken);

        var init = await _channel.InitializeAsync(new WorkerInitRequest
        {
            HostVersion = HostVersion,
            WorkerDirectory = config.WorkerDirectory,
            FunctionAppDirectory = _options.AppDirectory,
        }, cancellationToken);
        if (init.Result?.Status != StatusResult.Types.Status.Success)
        {
            throw new InvalidOperationException($"the worker failed to initialise: {init.Result?.Exception?.Message ?? init.Result?.Result}");
        }

        _log.Write("host", $"worker.initialized runtime=\"{init.WorkerMetadata?.RuntimeName} {init.WorkerMetadata?.RuntimeVersion}\" workerVersion={init.WorkerMetadata?.WorkerVersion} capabilities={string.Join(',', init.Capabilities.Keys.Order(StringComparer.Ordinal))}");

        var metadata = await _channel.GetMetadataAsync(_options.AppDirectory, cancellationToken);
        if (metadata.Result?.Status != StatusResult.Types.Status.Success)
        {
            throw new InvalidOperationException($"the worker failed to index its functions: {metadata.Result?.Exception?.Message}");
        }

        if (metadata.UseDefaultMetadataIndexing)
        {
            throw new NotSupportedException("the worker asked the host to index function.json files itself (use_default_metadata_indexing); the emulator only supports worker indexing");
        }

        Functions = [.. metadata.FunctionMetadataResults.Select(m => EmulatedFunction.FromRpc(m, settings))];
        foreach (var function in Functions)
        {
            _log.Write("host", $"function.indexed name={function.Name} id={function.Id} trigger={function.TriggerType} route={function.Route} methods={string.Join(',', function.Methods)} queue={function.QueueName}");
        }

        await Task.WhenAll(metadata.FunctionMetadataResults.Select(m => LoadAsync(m, cancellationToken)));

        var clients = new QueueClients(settings, hostJson.Queues, _log);
        var invoker = new FunctionInvoker(_channel, new QueueOutputBindings(clients, settings, _log), hostJson.FunctionTimeout, _log);
        if (Functions.Any(f => f.IsHttp))
        {
            if (!_channel.Capabilities.TryGetValue("HttpUri", out var httpUri) || !Uri.TryCreate(httpUri, UriKind.Absolute, out var workerHttpUri))
            {
                throw new NotSupportedException("the app has HTTP functions but the worker reported no HttpUri capability: only the ASP.NET Core integration (ConfigureFunctionsWebApplication) is emulated");
            }

            _front = await HttpFront.StartAsync(Functions, hostJson.RoutePrefix, workerHttpUri, invoker, _journal, _log, cancellationToken);
            _log.Write("host", $"http.listening uri={_front.BaseAddress} routePrefix=\"{hostJson.RoutePrefix}\" worker={workerHttpUri}");
        }

        var listeners = Functions.Where(f => f.IsQueue).Select(f => new QueueListener(f, clients, hostJson.Queues, _options.QueueVisibility, invoker, _journal, _log)).ToList();

        foreach (var other in Functions.Where(f => !f.IsHttp && !f.IsQueue))
        {
            _log.Write("host", $"function.not-listening name={other.Name} trigger={other.TriggerType} reason=\"trigger not emulated\"");
        }

        lock (_listeners)
        {
            // A worker that died during the start leaves no listener polling.
            _listeners.AddRange(listeners);
            if (!_stopped)
            {
                _listeners.ForEach(l => l.Start());
            }
        }

        _log.Write("host", $"host.started functions={Functions.Count}");
    }

    private async Task LoadAsync(RpcFunctionMetadata metadata, CancellationToken cancellationToken)
    {
        var request = new FunctionLoadRequest
        {
            FunctionId = metadata.FunctionId,
            Metadata = new RpcFunctionMetadata
            {
                Name = metadata.Name,
                Directory = metadata.Directory,
                EntryPoint = metadata.EntryPoint,
                ScriptFile = metadata.ScriptFile,
                IsProxy = false,
                Language = metadata.Language,
                FunctionId = metadata.FunctionId,
            },
        };
        // The host rebuilds each BindingInfo from the raw binding (GrpcMessageConversionExtensions.ToBindingInfo):
        // type, direction and data type.
        foreach (var binding in metadata.RawBindings.Select(FunctionBinding.Parse))
        {
            request.Metadata.Bindings[binding.Name] = new BindingInfo
            {
                Type = binding.Type,
                Direction = binding.Direction.ToLowerInvariant() switch { "out" => BindingInfo.Types.Direction.Out, "inout" => BindingInfo.Types.Direction.Inout, _ => BindingInfo.Types.Direction.In },
                DataType = (binding.DataType ?? "").ToLowerInvariant() switch { "string" => BindingInfo.Types.DataType.String, "binary" => BindingInfo.Types.DataType.Binary, "stream" => BindingInfo.Types.DataType.Stream, _ => BindingInfo.Types.DataType.Undefined },
            };
        }

        foreach (var (key, value) in metadata.Properties)
        {
            request.Metadata.Properties[key] = value;
        }

        var response = await _channel.LoadAsync(request, cancellationToken);
        if (response.Result?.Status != StatusResult.Types.Status.Success)
        {
            throw new InvalidOperationException($"the worker failed to load function {metadata.Name}: {response.Result?.Exception?.Message}");
        }

        _log.Write("host", $"function.loaded name={metadata.Name} id={metadata.FunctionId}");
    }

    private void StopListeners()
    {
        lock (_listeners)
        {
            _stopped = true;
            _listeners.ForEach(l => l.Stop());
        }
    }

    private void OnWorkerExited()
    {
        StopListeners();
        _channel.Close($"the worker exited with code {_worker.Exited.Result}");
    }
}
