// The git source over HTTP without git: a loopback server answers
// /info/refs?service=git-upload-pack with the advertisement git itself makes for a real
// repository (`git upload-pack --advertise-refs --stateless-rpc`, behind the service line
// and flush a smart-HTTP server puts first), as GitHub and git-http-backend do.
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Nixery.Core.Errors;
using Nixery.Core.Sources;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Sources;

public sealed class SmartHttpGitSourceTests : IAsyncLifetime
{
    private readonly HttpListener _server = new();

    private readonly CancellationTokenSource _stop = new();

    private readonly HttpClient _http = new();

    private PackageSetRepo _repo = null!;

    private string _base = "";

    private Task _serving = Task.CompletedTask;

    /// <summary>What the server answers: the real advertisement, or a fixed status and body.</summary>
    private (int Status, byte[]? Body)? _override;

    public async Task InitializeAsync()
    {
        _repo = await PackageSetRepo.CreateAsync();
        StartOnAFreePort();
        _serving = ServeAsync();
    }

    public async Task DisposeAsync()
    {
        _stop.Cancel();
        _server.Stop();
        await _serving.ContinueWith(_ => { }, TaskScheduler.Default);
        _server.Close();
        _http.Dispose();
        _repo.Dispose();
    }

    /// <summary>HttpListener cannot bind port 0, so a free port is picked and bound; another
    /// process may take it in between, and then the next free port is tried (a few times).</summary>
    private void StartOnAFreePort()
    {
        for (var attempt = 1; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            _base = $"http://127.0.0.1:{port}/";
            _server.Prefixes.Clear();
            _server.Prefixes.Add(_base);
            try
            {
                _server.Start();
                return;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                // Taken meanwhile: try another.
            }
        }
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _server.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            var (status, body) = _override ?? (200, context.Request.Url!.PathAndQuery == "/repo.git/info/refs?service=git-upload-pack" ? await AdvertisementAsync() : null);
            context.Response.StatusCode = body is null && status == 200 ? 404 : status;
            if (body is not null)
            {
                context.Response.ContentType = "application/x-git-upload-pack-advertisement";
                await context.Response.OutputStream.WriteAsync(body);
            }

            context.Response.Close();
        }
    }

    /// <summary>git's own bytes, unchanged (ProcessRunner reads text by lines).</summary>
    private async Task<byte[]> AdvertisementAsync()
    {
        var start = new System.Diagnostics.ProcessStartInfo("git") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "upload-pack", "--advertise-refs", "--stateless-rpc", _repo.Path })
        {
            start.ArgumentList.Add(argument);
        }

        using var git = System.Diagnostics.Process.Start(start)!;
        using var refs = new MemoryStream();
        await git.StandardOutput.BaseStream.CopyToAsync(refs);
        await git.WaitForExitAsync();
        return [.. Encoding.ASCII.GetBytes("001e# service=git-upload-pack\n0000"), .. refs.ToArray()];
    }

    private GitSource Source() => new(
        new SourceDefinition("remote", SourceKinds.Git, _base + "repo.git"), new RevisionCache(new FakeTimeProvider(), TimeSpan.FromSeconds(60)), _http);

    [Fact]
    public async Task LatestABranchAndAnAnnotatedTagResolveOverHttp()
    {
        var first = await _repo.CommitSetAsync("one", "first");
        await _repo.GitAsync("tag", "-a", "v1", "-m", "release one");
        await _repo.GitAsync("branch", "old");
        var second = await _repo.CommitSetAsync("two", "second");
        var source = Source();

        Assert.Equal(second, (await source.ResolveAsync("latest", CancellationToken.None)).Revision);
        Assert.Equal(second, (await source.ResolveAsync("main", CancellationToken.None)).Revision);
        Assert.Equal(first, (await source.ResolveAsync("old", CancellationToken.None)).Revision);
        Assert.Equal(first, (await source.ResolveAsync("v1", CancellationToken.None)).Revision);
    }

    [Fact]
    public async Task AnUnknownTagOverHttpIsManifestUnknown()
    {
        await _repo.CommitSetAsync("one", "first");

        var error = await Assert.ThrowsAsync<RegistryException>(() => Source().ResolveAsync("nosuch", CancellationToken.None));

        Assert.Equal(ErrorCode.ManifestUnknown, error.Code);
    }

    [Fact]
    public async Task AServerErrorOrSomethingElseIsUnavailableAndSaysWhat()
    {
        _override = (403, null);
        var forbidden = await Assert.ThrowsAsync<RegistryException>(() => Source().ResolveAsync("latest", CancellationToken.None));
        _override = (200, Encoding.ASCII.GetBytes("<html>sign in</html>"));
        var html = await Assert.ThrowsAsync<RegistryException>(() => Source().ResolveAsync("latest", CancellationToken.None));

        Assert.Equal(ErrorCode.Unavailable, forbidden.Code);
        Assert.EndsWith($"{_base}repo.git/info/refs?service=git-upload-pack answered 403 Forbidden", forbidden.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorCode.Unavailable, html.Code);
        Assert.EndsWith("is not a git smart-HTTP ref advertisement", html.Message, StringComparison.Ordinal);
    }
}

/// <summary>SmartHttpRefs.Parse on its own: the framing, and what is not an advertisement.</summary>
public sealed class SmartHttpRefsParseTests
{
    private static string Pkt(string line) => $"{line.Length + 4:x4}{line}";

    [Fact]
    public void ParseReadsEveryRefOfAnAdvertisement()
    {
        var text = Pkt("# service=git-upload-pack\n") + "0000"
            + Pkt(new string('a', 40) + " HEAD\0symref=HEAD:refs/heads/main\n")
            + Pkt(new string('a', 40) + " refs/heads/main\n")
            + "0000";

        Assert.Equal(
            new Dictionary<string, string> { ["HEAD"] = new string('a', 40), ["refs/heads/main"] = new string('a', 40) },
            SmartHttpRefs.Parse(Encoding.ASCII.GetBytes(text)));
        Assert.Null(SmartHttpRefs.Parse(Encoding.ASCII.GetBytes("zzzz")));
        Assert.Null(SmartHttpRefs.Parse(Encoding.ASCII.GetBytes("0100short")));
    }
}
