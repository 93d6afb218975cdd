// Who may pull: authentication, off by default (issue 13). Three modes, NIXERY_AUTH:
//   off    every request is served, as before;
//   basic  every request under /v2/ carries HTTP Basic credentials of a user (RFC 7617);
//   token  Docker's token flow (distribution docs/spec/auth/token.md): /v2/ answers 401 with a
//          Bearer challenge naming this app's /token, which trades Basic credentials (or none,
//          with NIXERY_AUTH_ANONYMOUS=pull) for a short-lived signed JWT limited to the scope
//          asked for (RegistryTokens, TokenHandler).
// Users come from NIXERY_AUTH_USERS and NIXERY_AUTH_USERS_FILE (RegistryUsers). Tokens are
// signed with HMAC-SHA256 under NIXERY_AUTH_TOKEN_KEY, which every instance of the HTTP function
// app must share; the embedded default, one process, makes a random one at start-up when it is
// unset (EmbeddedApp), so its tokens end with the process. On Azure each of these is an app
// setting, so a Key Vault reference (@Microsoft.KeyVault(SecretUri=…)) works for the users and
// the key without any code here: the platform resolves it before the app reads its settings.
// https://github.com/distribution/distribution/blob/main/docs/content/spec/auth/token.md
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Nixery.Core.Options;

namespace Nixery.Functions.Auth;

public sealed class AuthOptions : ICheckedSettings
{
    public const string Off = "off";
    public const string Basic = "basic";
    public const string Token = "token";
    public const string ModeKey = "NIXERY_AUTH";
    public const string UsersKey = "NIXERY_AUTH_USERS";
    public const string UsersFileKey = "NIXERY_AUTH_USERS_FILE";
    public const string AnonymousKey = "NIXERY_AUTH_ANONYMOUS";
    public const string TokenKeyKey = "NIXERY_AUTH_TOKEN_KEY";
    public const string NoAnonymous = "none";
    public const string AnonymousPull = "pull";

    /// <summary>The HMAC key's least length: HS256's key should be as long as its output (RFC 7518 §3.2).</summary>
    public const int MinKeyBytes = 32;

    [ConfigurationKeyName(ModeKey), AllowedValues(Off, Basic, Token)]
    public string Mode { get; set; } = Off;

    /// <summary>user:hash entries, separated by commas or new lines.</summary>
    [ConfigurationKeyName(UsersKey)]
    public string? Users { get; set; }

    /// <summary>A file of user:hash lines.</summary>
    [ConfigurationKeyName(UsersFileKey)]
    public string? UsersFile { get; set; }

    /// <summary>"pull": the token endpoint gives pull tokens to clients without credentials.</summary>
    [ConfigurationKeyName(AnonymousKey), AllowedValues(NoAnonymous, AnonymousPull)]
    public string Anonymous { get; set; } = NoAnonymous;

    /// <summary>The tokens' HMAC-SHA256 key, base64.</summary>
    [ConfigurationKeyName(TokenKeyKey)]
    public string? TokenKey { get; set; }

    /// <summary>Seconds a token is valid; the token spec asks for at least 60.</summary>
    [ConfigurationKeyName("NIXERY_AUTH_TOKEN_TTL"), Range(60, 86400), Unit("seconds")]
    public int TokenLifetimeSeconds { get; set; } = 300;

    /// <summary>The service name in challenges and the tokens' audience.</summary>
    [ConfigurationKeyName("NIXERY_AUTH_SERVICE")]
    public string Service { get; set; } = "nixery";

    /// <summary>The token endpoint's URL in challenges; unset, this request's scheme and host + /token.</summary>
    [ConfigurationKeyName("NIXERY_AUTH_REALM")]
    public string? Realm { get; set; }

    public bool Enabled => Mode != Off;

    public bool AllowsAnonymousPull => Mode == Token && Anonymous == AnonymousPull;

    public TimeSpan TokenLifetime => TimeSpan.FromSeconds(TokenLifetimeSeconds);

    /// <summary>The decoded key, or null when unset or not base64.</summary>
    public byte[]? KeyBytes()
    {
        if (TokenKey is null)
        {
            return null;
        }

        var buffer = new byte[TokenKey.Length];
        return Convert.TryFromBase64String(TokenKey, buffer, out var written) ? buffer[..written] : null;
    }

    public void Check(ICollection<string> errors)
    {
        var before = errors.Count;
        var users = RegistryUsers.Load(this, errors);
        if (Enabled && users.Count == 0 && errors.Count == before && !AllowsAnonymousPull)
        {
            errors.Add($"{ModeKey} is '{Mode}' but no user is set: set {UsersKey} or {UsersFileKey} to user:hash entries (hashes from `Nixery.Embedded.dll hash-password`)"
                + (Mode == Token ? $", or {AnonymousKey}=pull to let anyone pull." : "."));
        }

        if (Mode == Basic && Anonymous == AnonymousPull)
        {
            errors.Add($"{AnonymousKey} is 'pull' but {ModeKey} is 'basic', where every request needs credentials; set {ModeKey}=token for anonymous pull, or {AnonymousKey}=none.");
        }

        if (Mode == Token && TokenKey is null)
        {
            errors.Add($"{TokenKeyKey} must be set when {ModeKey} is 'token': a base64 key of at least {MinKeyBytes} bytes (`openssl rand -base64 32`), the same on every instance of the HTTP app.");
        }
        else if (TokenKey is not null && KeyBytes() is not { Length: >= MinKeyBytes })
        {
            errors.Add($"{TokenKeyKey} must be base64 of at least {MinKeyBytes} bytes (`openssl rand -base64 32`).");
        }

        if (Service.Length == 0 || Service.Any(c => c is '"' or '\\' || char.IsControl(c)))
        {
            errors.Add($"NIXERY_AUTH_SERVICE is '{Service}'; it must be a name without quotes or backslashes, e.g. the registry's host name.");
        }

        if (Realm is not null && (!Uri.TryCreate(Realm, UriKind.Absolute, out var realm) || realm.Scheme is not ("http" or "https") || Realm.Contains('"', StringComparison.Ordinal)))
        {
            errors.Add($"NIXERY_AUTH_REALM is '{Realm}'; it must be the token endpoint's absolute http(s) URL, e.g. https://registry.example.com/token.");
        }
    }
}
