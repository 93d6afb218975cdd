// Registries with authentication on, for the auth tests: token mode on both hosts (the embedded
// default, and the HTTP function app under the host emulator, where the realm comes from the
// host's X-Forwarded-Host), basic mode and anonymous pull on the embedded default only (the
// gate is the same code on both hosts; one host is enough for the mode's own rules). Each
// seeds the ten-byte blob, which a pull of any name can fetch without a build.
using System.Net.Http.Headers;
using System.Text;
using Nixery.Functions.Auth;

namespace Nixery.Functions.Tests.Auth;

public static class TestUsers
{
    public const string Alice = "alice";
    public const string AlicePassword = "wonderland";
    public const string Bob = "bob";
    public const string BobPassword = "builder";

    /// <summary>The tokens' key on the HTTP function app (the embedded default makes its own).</summary>
    public static readonly string TokenKey = RegistryTokens.NewKey();

    /// <summary>NIXERY_AUTH_USERS for alice and bob (the least iterations allowed, to keep tests quick).</summary>
    public static readonly string UsersSetting =
        $"{Alice}:{PasswordHash.Create(AlicePassword, PasswordHash.MinIterations)},\n{Bob}:{PasswordHash.Create(BobPassword, PasswordHash.MinIterations)}";

    /// <summary>The WWW-Authenticate header as the registry sent it.</summary>
    public static string Challenge(HttpResponseMessage response) =>
        response.Headers.NonValidated["WWW-Authenticate"].ToString();

    public static AuthenticationHeaderValue BasicOf(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
}

/// <summary>The embedded default as the other HTTP tests have it, with authentication settings.</summary>
public abstract class EmbeddedAuthFixture : RegistryFixture;

public sealed class TokenAuthOnEmbeddedDefault : EmbeddedAuthFixture
{
    protected override IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>
    {
        ["NIXERY_AUTH"] = "token",
        ["NIXERY_AUTH_USERS"] = TestUsers.UsersSetting,
    };
}

public sealed class BasicAuthOnEmbeddedDefault : EmbeddedAuthFixture
{
    protected override IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>
    {
        ["NIXERY_AUTH"] = "basic",
        ["NIXERY_AUTH_USERS"] = TestUsers.UsersSetting,
    };
}

public sealed class AnonymousPullOnEmbeddedDefault : EmbeddedAuthFixture
{
    protected override IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>
    {
        ["NIXERY_AUTH"] = "token",
        ["NIXERY_AUTH_USERS"] = TestUsers.UsersSetting,
        ["NIXERY_AUTH_ANONYMOUS"] = "pull",
    };
}

public sealed class TokenAuthOnFunctionsHost : FunctionsHostFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>
    {
        ["NIXERY_AUTH"] = "token",
        ["NIXERY_AUTH_USERS"] = TestUsers.UsersSetting,
        ["NIXERY_AUTH_TOKEN_KEY"] = TestUsers.TokenKey,
    };
}

[CollectionDefinition(Name)]
public sealed class TokenAuthEmbeddedCollection : ICollectionFixture<TokenAuthOnEmbeddedDefault>
{
    public const string Name = "token auth on the embedded default";
}

[CollectionDefinition(Name)]
public sealed class TokenAuthFunctionsHostCollection : ICollectionFixture<TokenAuthOnFunctionsHost>
{
    public const string Name = "token auth on the HTTP function app under the host emulator";
}

[CollectionDefinition(Name)]
public sealed class BasicAuthCollection : ICollectionFixture<BasicAuthOnEmbeddedDefault>
{
    public const string Name = "basic auth on the embedded default";
}

[CollectionDefinition(Name)]
public sealed class AnonymousPullCollection : ICollectionFixture<AnonymousPullOnEmbeddedDefault>
{
    public const string Name = "anonymous pull on the embedded default";
}
