// The parts of authentication that need no running registry: password hashes, the users
// settings and every start-up sentence they produce, and token lifetimes on a fake clock.
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Time.Testing;
using Nixery.Core.Options;
using Nixery.Functions.Auth;
using Nixery.TestSupport;

namespace Nixery.Functions.Tests.Auth;

public sealed class PasswordHashTests
{
    [Fact]
    public void AHashVerifiesItsPasswordAndNoOther()
    {
        var hash = PasswordHash.TryParse(PasswordHash.Create("secret", PasswordHash.MinIterations).ToString(), out var problem);

        Assert.Null(problem);
        Assert.NotNull(hash);
        Assert.True(hash.Verify("secret"));
        Assert.False(hash.Verify("Secret"));
        Assert.Equal(PasswordHash.MinIterations, hash.Iterations);
    }

    [Fact]
    public void TwoHashesOfOnePasswordDifferByTheirSalt()
    {
        Assert.NotEqual(PasswordHash.Create("secret", PasswordHash.MinIterations).ToString(), PasswordHash.Create("secret", PasswordHash.MinIterations).ToString());
    }

    [Theory]
    [InlineData("plain", "it is not pbkdf2-sha256$<iterations>$<salt>$<hash>")]
    [InlineData("pbkdf2-sha256$1000$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "its iteration count '1000' must be a whole number of at least 100000")]
    [InlineData("pbkdf2-sha256$100000$!!$AAAA", "its salt or hash is not base64 of the right length (pbkdf2-sha256$<iterations>$<salt>$<hash>)")]
    public void AMalformedHashSaysWhy(string text, string expected)
    {
        Assert.Null(PasswordHash.TryParse(text, out var problem));
        Assert.Equal(expected, problem);
    }
}

public sealed class AuthSettingsTests
{
    private static IReadOnlyList<string> Check(params (string Key, string Value)[] settings) =>
        Settings.Check(
            new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build(),
            [typeof(AuthOptions)]);

    [Fact]
    public void OffNeedsNothing()
    {
        Assert.Empty(Check());
    }

    [Fact]
    public void EveryWrongAuthSettingIsASentenceNamingIt()
    {
        Assert.Equal(
            [
                "NIXERY_AUTH is 'on'; it must be 'off' or 'basic' or 'token'.",
                "NIXERY_AUTH_ANONYMOUS is 'yes'; it must be 'none' or 'pull'.",
                "NIXERY_AUTH_TOKEN_TTL is '10'; it must be a whole number of seconds from 60 to 86400.",
                "NIXERY_AUTH_USERS: entry 1 is not <user>:<hash>; each entry is a user name, ':', and a hash that `Nixery.Embedded.dll hash-password` prints.",
                "NIXERY_AUTH_USERS: the hash of user 'bob' is wrong: it is not pbkdf2-sha256$<iterations>$<salt>$<hash>; make one with `Nixery.Embedded.dll hash-password`.",
                "NIXERY_AUTH_USERS_FILE is '/nonexistent/users', which cannot be read (Could not find a part of the path '/nonexistent/users'.); it must be a file of user:hash lines.",
                "NIXERY_AUTH_TOKEN_KEY must be base64 of at least 32 bytes (`openssl rand -base64 32`).",
                "NIXERY_AUTH_REALM is 'token'; it must be the token endpoint's absolute http(s) URL, e.g. https://registry.example.com/token.",
            ],
            Check(
                ("NIXERY_AUTH", "on"),
                ("NIXERY_AUTH_ANONYMOUS", "yes"),
                ("NIXERY_AUTH_TOKEN_TTL", "10"),
                ("NIXERY_AUTH_USERS", "nohash\nbob:plain"),
                ("NIXERY_AUTH_USERS_FILE", "/nonexistent/users"),
                ("NIXERY_AUTH_TOKEN_KEY", "c2hvcnQ="),
                ("NIXERY_AUTH_REALM", "token")));
    }

    [Fact]
    public void TokenModeNeedsUsersAndAKey()
    {
        Assert.Equal(
            [
                "NIXERY_AUTH is 'token' but no user is set: set NIXERY_AUTH_USERS or NIXERY_AUTH_USERS_FILE to user:hash entries (hashes from `Nixery.Embedded.dll hash-password`), or NIXERY_AUTH_ANONYMOUS=pull to let anyone pull.",
                "NIXERY_AUTH_TOKEN_KEY must be set when NIXERY_AUTH is 'token': a base64 key of at least 32 bytes (`openssl rand -base64 32`), the same on every instance of the HTTP app.",
            ],
            Check(("NIXERY_AUTH", "token")));
    }

    [Fact]
    public void BasicModeRefusesAnonymousPull()
    {
        Assert.Equal(
            ["NIXERY_AUTH_ANONYMOUS is 'pull' but NIXERY_AUTH is 'basic', where every request needs credentials; set NIXERY_AUTH=token for anonymous pull, or NIXERY_AUTH_ANONYMOUS=none."],
            Check(("NIXERY_AUTH", "basic"), ("NIXERY_AUTH_ANONYMOUS", "pull"), ("NIXERY_AUTH_USERS", TestUsers.UsersSetting)));
    }

    [Fact]
    public void AUsersFileWithCommentsAndADuplicateNamesTheDuplicate()
    {
        using var folder = new TempDir("nixery-auth-users");
        var hash = PasswordHash.Create("x", PasswordHash.MinIterations);
        File.WriteAllText(folder.Combine("users"), $"# users\nalice:{hash}\n\nalice:{hash}\n");

        Assert.Equal(
            [$"NIXERY_AUTH_USERS_FILE ({folder.Combine("users")}): user 'alice' is listed twice; keep one entry per user."],
            Check(("NIXERY_AUTH", "basic"), ("NIXERY_AUTH_USERS_FILE", folder.Combine("users"))));
    }

    [Fact]
    public void TheEmbeddedDefaultStartsInTokenModeWithoutAKey()
    {
        using var folder = new TempDir("nixery-auth-startup");
        var settings = new Dictionary<string, string?>(RegistryInstance.DefaultSettings(folder.Combine("storage")))
        {
            ["NIXERY_AUTH"] = "token",
            ["NIXERY_AUTH_USERS"] = TestUsers.UsersSetting,
        };

        using var app = Embedded.EmbeddedApp.Create([], settings, out var error);

        Assert.Null(error);
        Assert.NotNull(app);
    }
}

public sealed class RegistryTokensTests
{
    private static readonly AuthOptions Options = new() { Mode = AuthOptions.Token, TokenKey = RegistryTokens.NewKey() };

    [Fact]
    public async Task ATokenIsValidUntilItsLifetimeAndTheClockSkewHavePassed()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-30T06:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var tokens = new RegistryTokens(Options, clock);
        var issued = tokens.Issue("alice", [AccessScope.PullOf("shell/git")]);

        clock.Advance(TimeSpan.FromSeconds(300 + 29));
        var (claims, _) = await tokens.ValidateAsync(issued.Token);
        clock.Advance(TimeSpan.FromSeconds(2));
        var (expired, problem) = await tokens.ValidateAsync(issued.Token);

        Assert.NotNull(claims);
        Assert.Equal([AccessScope.PullOf("shell/git").ToString()], claims.Access.Select(a => a.ToString()));
        Assert.Null(expired);
        Assert.Equal("the token has expired", problem);
    }

    [Fact]
    public async Task ATokenOfAnotherServiceIsRefused()
    {
        var clock = new FakeTimeProvider();
        var other = new RegistryTokens(new AuthOptions { Mode = AuthOptions.Token, TokenKey = Options.TokenKey, Service = "other" }, clock);

        var (claims, problem) = await new RegistryTokens(Options, clock).ValidateAsync(other.Issue("alice", []).Token);

        Assert.Null(claims);
        Assert.Equal("the token is not for the service 'nixery'", problem);
    }

    [Theory]
    [InlineData("repository:shell/git:pull", "repository:shell/git:pull")]
    [InlineData("repository:shell/git:push,pull", "repository:shell/git:pull")]
    [InlineData("repository:shell/git:*", "repository:shell/git:pull")]
    [InlineData("repository:shell/git:push", null)]
    [InlineData("repository:Shell:pull", null)]
    [InlineData("registry:catalog:*", "registry:catalog:*")]
    [InlineData("registry:catalog:pull", null)]
    public void AScopeIsGrantedAsFarAsThisRegistryGrantsAnything(string asked, string? granted)
    {
        Assert.Equal(granted, AccessScope.TryParse(asked)?.Granted()?.ToString());
    }
}

public sealed class HashPasswordCommandTests
{
    [Fact]
    public async Task HashPasswordPrintsAUserLineWhoseHashVerifiesThePasswordFromStandardInput()
    {
        var embedded = ServiceProcess.AssemblyOf("Embedded", "Nixery.Embedded.dll");

        var result = (await ProcessRunner.RunAsync("sh", ["-c", $"printf 'correct horse\\n' | dotnet '{embedded}' hash-password alice"])).EnsureSuccess("hash-password");

        var line = result.Stdout.Trim();
        Assert.StartsWith("alice:pbkdf2-sha256$600000$", line, StringComparison.Ordinal);
        var hash = PasswordHash.TryParse(line["alice:".Length..], out var problem);
        Assert.Null(problem);
        Assert.True(hash!.Verify("correct horse"));
        Assert.False(result.Stdout.Contains("correct horse", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HashPasswordRefusesAUserNameWithAColon()
    {
        var embedded = ServiceProcess.AssemblyOf("Embedded", "Nixery.Embedded.dll");

        var result = await ProcessRunner.RunAsync("sh", ["-c", $"printf 'x\\n' | dotnet '{embedded}' hash-password a:b"]);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("usage: hash-password [user]", result.Stderr, StringComparison.Ordinal);
    }
}

public sealed class FunctionAppAuthStartupTests
{
    [Fact]
    public async Task TheHttpFunctionAppInTokenModeWithoutAKeyStopsNamingTheKey()
    {
        var app = Path.Combine(FunctionsHostFixture.AppDirectory, "Nixery.Functions.dll");

        // It stops before it builds the host, so no Functions host is needed to see it.
        var result = await ProcessRunner.RunAsync("env", [
            "-u", "NIXERY_AUTH_TOKEN_KEY", "NIXERY_AUTH=token", "NIXERY_AUTH_ANONYMOUS=pull", $"NIXERY_PKGS_PATH={RepoPaths.PackageSetDir}",
            "AZURE_STORAGE_CONNECTION_STRING=UseDevelopmentStorage=true", "dotnet", app]);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            "invalid configuration:\n  NIXERY_AUTH_TOKEN_KEY must be set when NIXERY_AUTH is 'token': a base64 key of at least 32 bytes (`openssl rand -base64 32`), the same on every instance of the HTTP app.",
            result.Stderr.Trim());
    }
}
