// A TCP proxy that makes every storage request slow, as a storage account far away would:
// the first bytes of each request (the client's bytes after the server last answered, or on a
// new connection) are held for a fixed delay before they are forwarded; everything else
// passes straight through. So each request/response exchange costs the delay once, whatever
// its size, and requests in flight on several connections are delayed side by side, as on a
// real link. Written here because toxiproxy is not on the machine, and tc netem needs root and
// delays every packet on the interface (loopback, shared by everything), not each request.
// Our own: it is fifty lines.
using System.Net;
using System.Net.Sockets;

namespace Nixery.Bench.Latency;

internal sealed class LatencyProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly TimeSpan _delay;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _requests;

    public LatencyProxy(IPEndPoint target, TimeSpan delay)
    {
        _target = target;
        _delay = delay;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Exchanges delayed so far (requests, counted as the proxy sees them).</summary>
    public int Requests => Volatile.Read(ref _requests);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            client.NoDelay = true;
            server.NoDelay = true;
            await server.ConnectAsync(_target, _stop.Token);
            var answered = new StrongBox(true);
            var up = PumpAsync(client.GetStream(), server.GetStream(), answered, delay: true);
            var down = PumpAsync(server.GetStream(), client.GetStream(), answered, delay: false);
            await Task.WhenAny(up, down);
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, StrongBox answered, bool delay)
    {
        var buffer = new byte[81920];
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                if (delay && answered.Value)
                {
                    // A new request: the server answered since the last bytes went up.
                    answered.Value = false;
                    Interlocked.Increment(ref _requests);
                    await Task.Delay(_delay, _stop.Token);
                }
                else if (!delay)
                {
                    answered.Value = true;
                }

                await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The other side closed, or the proxy stops.
        }
        finally
        {
            to.Socket.Shutdown(SocketShutdown.Send);
        }
    }

    private sealed class StrongBox(bool value)
    {
        public volatile bool Value = value;
    }
}
