// The host's side of one worker's EventStream. The worker opens the stream and says
// StartStream{worker_id}; from then on either side writes whenever it likes, so requests and
// responses are matched by what they carry: the single outstanding init and metadata
// request, loads by function_id, invocations by invocation_id. Writes go through one queue
// and one writer, as a gRPC stream allows one write at a time. RpcLog messages go to the log.
// Host: src/WebJobs.Script.Grpc/Server/FunctionRpcService.cs (StartStream first, then pump
// both ways), src/WebJobs.Script.Grpc/Channel/GrpcWorkerChannel.cs (the message sequence).
using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using Nixery.FunctionsHost.Rpc;
using GrpcException = Grpc.Core.RpcException;

namespace Nixery.FunctionsHost;

internal sealed class WorkerChannel
{
    private readonly string _workerId;
    private readonly HostLog _log;
    private readonly Channel<StreamingMessage> _outbound = Channel.CreateUnbounded<StreamingMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StreamingMessage>> _pending = new();
    private int _streams;

    public WorkerChannel(string workerId, HostLog log)
    {
        _workerId = workerId;
        _log = log;
    }

    /// <summary>Completes when the worker has opened its stream and said StartStream.</summary>
    public Task Connected => _connected.Task;

    /// <summary>Completes with the reason when the stream ends.</summary>
    public Task<string> Closed => _closed.Task;

    /// <summary>Capabilities the worker reported in WorkerInitResponse.</summary>
    public IReadOnlyDictionary<string, string> Capabilities { get; private set; } = new Dictionary<string, string>();

    public async Task<WorkerInitResponse> InitializeAsync(WorkerInitRequest request, CancellationToken cancellationToken)
    {
        var answer = await RequestAsync("init", new StreamingMessage { WorkerInitRequest = request }, cancellationToken);
        Capabilities = new Dictionary<string, string>(answer.WorkerInitResponse.Capabilities);
        return answer.WorkerInitResponse;
    }

    public async Task<FunctionMetadataResponse> GetMetadataAsync(string appDirectory, CancellationToken cancellationToken) =>
        (await RequestAsync("metadata", new StreamingMessage { FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = appDirectory } }, cancellationToken))
            .FunctionMetadataResponse;

    public async Task<FunctionLoadResponse> LoadAsync(FunctionLoadRequest request, CancellationToken cancellationToken) =>
        (await RequestAsync("load:" + request.FunctionId, new StreamingMessage { FunctionLoadRequest = request }, cancellationToken)).FunctionLoadResponse;

    /// <summary>Sends the request and completes with the worker's InvocationResponse.</summary>
    public async Task<InvocationResponse> InvokeAsync(InvocationRequest request, CancellationToken cancellationToken) =>
        (await RequestAsync("invoke:" + request.InvocationId, new StreamingMessage { InvocationRequest = request }, cancellationToken)).InvocationResponse;

    /// <summary>Writes a message that has no answer (InvocationCancel, WorkerTerminate).</summary>
    public void Send(StreamingMessage message) => _outbound.Writer.TryWrite(message);

    /// <summary>Fails every request still waiting: the worker is gone.</summary>
    public void Close(string reason)
    {
        if (_closed.TrySetResult(reason))
        {
            _connected.TrySetException(new InvalidOperationException(reason));
            _outbound.Writer.TryComplete();
            foreach (var key in _pending.Keys)
            {
                if (_pending.TryRemove(key, out var waiter))
                {
                    waiter.TrySetException(new WorkerGoneException(reason));
                }
            }
        }
    }

    /// <summary>Serves the worker's EventStream until it ends (called by the gRPC service).</summary>
    public async Task RunAsync(IAsyncStreamReader<StreamingMessage> requests, IServerStreamWriter<StreamingMessage> responses, CancellationToken cancellationToken)
    {
        if (!await requests.MoveNext(cancellationToken))
        {
            return;
        }

        var first = requests.Current;
        if (first.ContentCase != StreamingMessage.ContentOneofCase.StartStream || first.StartStream.WorkerId != _workerId)
        {
            throw new GrpcException(new Status(StatusCode.InvalidArgument, $"expected StartStream with worker id {_workerId}, got {first.ContentCase}"));
        }

        // One stream per worker: the .NET worker opens one (DotNetWorker.Grpc/GrpcWorkerClientFactory.cs),
        // and the emulator does not offer the host's MultiStream capability.
        if (Interlocked.Increment(ref _streams) != 1)
        {
            throw new GrpcException(new Status(StatusCode.AlreadyExists, $"worker {_workerId} already has a stream"));
        }

        _log.Write("host", $"rpc.connected workerId={_workerId}");
        _connected.TrySetResult();
        var writer = WriteAllAsync(responses, cancellationToken);
        try
        {
            while (await requests.MoveNext(cancellationToken))
            {
                Receive(requests.Current);
            }

            Close("the worker closed its gRPC stream");
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or GrpcException or InvalidOperationException)
        {
            Close($"the worker's gRPC stream broke: {e.Message}");
        }

        await writer;
    }

    private async Task<StreamingMessage> RequestAsync(string key, StreamingMessage message, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.TryAdd(key, answer))
        {
            throw new InvalidOperationException($"a {key} request is already waiting for the worker");
        }

        if (_closed.Task.IsCompleted)
        {
            _pending.TryRemove(key, out _);
            throw new WorkerGoneException(_closed.Task.Result);
        }

        message.RequestId = Guid.NewGuid().ToString();
        _outbound.Writer.TryWrite(message);
        try
        {
            return await answer.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            _pending.TryRemove(key, out _);
        }
    }

    private async Task WriteAllAsync(IServerStreamWriter<StreamingMessage> responses, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in _outbound.Reader.ReadAllAsync(cancellationToken))
            {
                await responses.WriteAsync(message, cancellationToken);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException)
        {
            Close($"writing to the worker's gRPC stream failed: {e.Message}");
        }
    }

    private void Receive(StreamingMessage message)
    {
        var key = message.ContentCase switch
        {
            StreamingMessage.ContentOneofCase.WorkerInitResponse => "init",
            StreamingMessage.ContentOneofCase.FunctionMetadataResponse => "metadata",
            StreamingMessage.ContentOneofCase.FunctionLoadResponse => "load:" + message.FunctionLoadResponse.FunctionId,
            StreamingMessage.ContentOneofCase.InvocationResponse => "invoke:" + message.InvocationResponse.InvocationId,
            _ => null,
        };
        if (message.ContentCase == StreamingMessage.ContentOneofCase.RpcLog)
        {
            Log(message.RpcLog);
        }
        else if (key is not null && _pending.TryRemove(key, out var waiter))
        {
            waiter.TrySetResult(message);
        }
        else if (message.ContentCase == StreamingMessage.ContentOneofCase.None)
        {
            // Empty (the .NET worker answers WorkerTerminate with an empty message:
            // DotNetWorker.Grpc/GrpcWorker.cs ProcessRequestCoreAsync), or a kind of message this
            // subset of the protocol leaves out (it arrives as unknown fields).
        }
        else
        {
            _log.Write("host", $"rpc.ignored type={message.ContentCase} key={key}");
        }
    }

    // The host sorts worker logs into system logs and function logs (GrpcWorkerChannel.SystemLog,
    // Log); here both go to the one log, with the invocation id when there is one.
    private void Log(RpcLog log)
    {
        var exception = log.Exception is null ? "" : $" exception=\"{log.Exception.Message}\"\n{log.Exception.StackTrace}";
        var invocation = string.IsNullOrEmpty(log.InvocationId) ? "" : $" invocationId={log.InvocationId}";
        _log.Write("worker", $"{log.Level} {log.LogCategory}/{log.Category}{invocation}: {log.Message}{exception}");
    }
}

/// <summary>The worker exited or its stream broke while a request waited for an answer.</summary>
public sealed class WorkerGoneException(string message) : Exception(message);
