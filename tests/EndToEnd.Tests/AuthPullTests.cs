// Issue 13, "Done when" 1: with NIXERY_AUTH=token, real clients go through Docker's token flow
// against the embedded default (the 401 challenge, Basic credentials at /token, the bearer token
// on each request): skopeo with --src-creds and podman after `podman login` pull an image built
// from the offline set, and both fail, saying why, without credentials or with wrong ones. A
// token for one name pulls no other, handed to skopeo as --registry-token so that it cannot
// fetch a better one. Users come from a users file, as an operator writes it.
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Nixery.Functions.Auth;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests;

public sealed class AuthRegistryFixture : IAsyncLifetime
{
    public const string User = "alice";
    public const string Password = "wonderland";

    private readonly TempDir _folder = new("nixery-auth-e2e");

    public RegistryInstance Registry { get; private set; } = null!;

    public string WorkDir(string name) => Directory.CreateDirectory(_folder.Combine(name)).FullName;

    public async Task InitializeAsync()
    {
        var users = _folder.Combine("users");
        await File.WriteAllTextAsync(users, $"# test users\n{User}:{PasswordHash.Create(Password, PasswordHash.MinIterations)}\n");
        Registry = await RegistryInstance.StartAsync(_folder.Combine("storage"), new Dictionary<string, string?>
        {
            ["NIXERY_AUTH"] = "token",
            ["NIXERY_AUTH_USERS_FILE"] = users,
        });
    }

    public async Task DisposeAsync()
    {
        await Registry.DisposeAsync();
        _folder.Dispose();
    }
}

public sealed class AuthPullTests(AuthRegistryFixture fixture) : IClassFixture<AuthRegistryFixture>
{
    private const string Image = "bash:latest";

    private string HostPort => fixture.Registry.HostPort;

    [Fact]
    public async Task SkopeoPullsWithCredentials()
    {
        var oci = fixture.WorkDir("skopeo-creds");

        (await SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", $"{AuthRegistryFixture.User}:{AuthRegistryFixture.Password}", $"docker://{HostPort}/{Image}", $"oci:{oci}:latest"))
            .EnsureSuccess("skopeo copy --src-creds");

        Assert.StartsWith("sha256:", Clients.OciManifestDigest(oci), StringComparison.Ordinal);
        Assert.NotEmpty(Clients.OciLayerDigests(oci));
    }

    [Fact]
    public async Task SkopeoWithoutCredentialsFailsSayingAuthenticationIsRequired()
    {
        var result = await SkopeoAsync("copy", "--src-tls-verify=false", $"docker://{HostPort}/{Image}", $"oci:{fixture.WorkDir("skopeo-none")}:latest");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("authentication required", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SkopeoWithAWrongPasswordFailsSayingSo()
    {
        var result = await SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", $"{AuthRegistryFixture.User}:wrong", $"docker://{HostPort}/{Image}", $"oci:{fixture.WorkDir("skopeo-wrong")}:latest");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("wrong user name or password", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PodmanLogsInAndPulls()
    {
        var storage = fixture.WorkDir("podman-login");
        var authFile = Path.Combine(storage, "auth.json");

        (await PodmanAsync(storage, "login", "--tls-verify=false", "--authfile", authFile, "-u", AuthRegistryFixture.User, "-p", AuthRegistryFixture.Password, HostPort))
            .EnsureSuccess("podman login");
        var pull = await PodmanAsync(storage, "pull", "--tls-verify=false", "--authfile", authFile, $"{HostPort}/{Image}");

        pull.EnsureSuccess("podman pull after login");
        Assert.Matches("(?m)^[0-9a-f]{64}$", pull.Stdout);
    }

    [Fact]
    public async Task PodmanLoginWithAWrongPasswordFails()
    {
        var storage = fixture.WorkDir("podman-wrong");

        var login = await PodmanAsync(storage, "login", "--tls-verify=false", "--authfile", Path.Combine(storage, "auth.json"), "-u", AuthRegistryFixture.User, "-p", "wrong", HostPort);

        Assert.True(login.ExitCode != 0, login.Stderr);
        // containers/image reports a 401 from the token endpoint as its own ErrUnauthorizedForCredentials.
        Assert.Contains("invalid username/password", login.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PodmanPullWithoutLoginFailsSayingAuthenticationIsRequired()
    {
        var storage = fixture.WorkDir("podman-none");
        var authFile = Path.Combine(storage, "auth.json");
        await File.WriteAllTextAsync(authFile, "{\"auths\":{}}");

        var pull = await PodmanAsync(storage, "pull", "--tls-verify=false", "--authfile", authFile, $"{HostPort}/{Image}");

        Assert.True(pull.ExitCode != 0, pull.Stderr);
        Assert.Contains("authentication required", pull.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATokenForOneNameCannotPullAnother()
    {
        var token = await TokenForAsync("repository:bash:pull");

        var own = await SkopeoAsync("inspect", "--tls-verify=false", "--registry-token", token, $"docker://{HostPort}/{Image}");
        var other = await SkopeoAsync("copy", "--src-tls-verify=false", "--src-registry-token", token, $"docker://{HostPort}/coreutils:latest", $"oci:{fixture.WorkDir("other-name")}:latest");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/coreutils/manifests/latest");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var direct = await fixture.Registry.Client.SendAsync(request);

        own.EnsureSuccess("skopeo inspect with a token for bash");
        Assert.NotEqual(0, other.ExitCode);
        Assert.Contains("the token grants repository:bash:pull, not repository:coreutils:pull", other.Stderr, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, direct.StatusCode);
        Assert.Contains("\"code\":\"UNAUTHORIZED\"", await direct.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static Task<ProcessResult> SkopeoAsync(params string[] args) => ProcessRunner.RunAsync("skopeo", args);

    private static Task<ProcessResult> PodmanAsync(string storage, params string[] args) =>
        ProcessRunner.RunAsync("podman", [
            "--root", Path.Combine(storage, "root"), "--runroot", Path.Combine(storage, "run"), "--storage-driver", "vfs", .. args]);

    private async Task<string> TokenForAsync(string scope)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/token?service=nixery&scope={Uri.EscapeDataString(scope)}");
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AuthRegistryFixture.User}:{AuthRegistryFixture.Password}")));
        using var response = await fixture.Registry.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("token").GetString()!;
    }
}
