// The one gate every protected request passes (RegistryApi calls it before any handler), for
// the mode NIXERY_AUTH names (AuthOptions):
//
//   basic  Authorization: Basic of a user (RFC 7617), on every request; otherwise
//          401 + WWW-Authenticate: Basic realm="<service>".
//   token  Authorization: Bearer <a token of RegistryTokens> whose "access" covers the request's
//          scope; otherwise 401 + the challenge of distribution's token spec, which sends the
//          client to the token endpoint and says what to ask for:
//            WWW-Authenticate: Bearer realm="https://<host>/token",service="<service>",scope="repository:<name>:pull"
//          (no scope on /v2/ itself). A valid token for another name gets the same 401 with
//          error="insufficient_scope" (RFC 6750 §3.1), which makes clients fetch a token for
//          this name; a bad or expired one gets error="invalid_token".
//
// Every refusal is the registry error body with code UNAUTHORIZED (401), whose message says
// what to do; a malformed Authorization header is a refusal too, never a 500. The realm is this
// request's own scheme and host (X-Forwarded-Proto / X-Forwarded-Host first: the Functions host
// forwards requests to this worker with them), or NIXERY_AUTH_REALM.
// https://github.com/distribution/distribution/blob/main/docs/content/spec/auth/token.md
using System.Text;
using Nixery.Core.Errors;

namespace Nixery.Functions.Auth;

public sealed class RegistryAuth(AuthOptions options, RegistryUsers users, RegistryTokens tokens, ILogger<RegistryAuth> logger)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public AuthOptions Options => options;

    /// <summary>The user a request was let in as (HttpContext.Items), for limits per client
    /// (Builds/ClientKey.cs); absent for anonymous requests and with authentication off.</summary>
    public static string? UserOf(HttpContext context) => context.Items[UserItem] as string;

    /// <summary>Returns when the request may have <paramref name="needed"/> (null: /v2/ itself,
    /// any authenticated client); throws UNAUTHORIZED with the challenge otherwise.</summary>
    public async Task RequireAsync(HttpContext context, AccessScope? needed)
    {
        switch (options.Mode)
        {
            case AuthOptions.Basic:
                RequireBasicUser(context);
                return;
            case AuthOptions.Token:
                await RequireTokenAsync(context, needed);
                return;
            default:
                return;
        }
    }

    /// <summary>For the web pages (landing, /failures), which browsers open: a user's Basic
    /// credentials, or in token mode also any valid token or anonymous pull where allowed.</summary>
    public async Task RequireUserAsync(HttpContext context)
    {
        if (!options.Enabled || options.AllowsAnonymousPull)
        {
            return;
        }

        if (options.Mode == AuthOptions.Token && BearerOf(context) is { } bearer && (await tokens.ValidateAsync(bearer)).Claims is not null)
        {
            return;
        }

        RequireBasicUser(context);
    }

    /// <summary>The user of valid Basic credentials; throws UNAUTHORIZED (Basic challenge) for
    /// wrong or malformed ones, and for none unless <paramref name="allowNone"/> (then null).</summary>
    public string? BasicUser(HttpContext context, bool allowNone = false)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.Length == 0 && allowNone)
        {
            return null;
        }

        string reason;
        if (header.Length == 0)
        {
            reason = "authentication required: this registry needs a user name and password (docker login, podman login, skopeo --creds)";
        }
        else if (!TryReadBasic(header, out var user, out var password))
        {
            reason = "the Authorization header is not HTTP Basic credentials (Basic base64(user:password))";
        }
        else if (!users.Verify(user, password))
        {
            logger.LogInformation("credentials refused for user {User}", user);
            reason = "wrong user name or password";
        }
        else
        {
            return user;
        }

        throw Unauthorized(reason, $"Basic realm=\"{options.Service}\", charset=\"UTF-8\"");
    }

    /// <summary>The token endpoint's URL as a challenge names it.</summary>
    public string Realm(HttpContext context)
    {
        if (options.Realm is { } configured)
        {
            return configured;
        }

        var request = context.Request;
        var scheme = FirstValue(request.Headers["X-Forwarded-Proto"]) ?? request.Scheme;
        var host = FirstValue(request.Headers["X-Forwarded-Host"]) ?? request.Host.Value;
        // A header value must not end the quoted realm early.
        return $"{scheme}://{host}/token".Replace("\"", "", StringComparison.Ordinal).Replace("\\", "", StringComparison.Ordinal);
    }

    /// <summary>user:password from "Basic base64(user:password)"; false for anything else.</summary>
    public static bool TryReadBasic(string header, out string user, out string password)
    {
        user = password = "";
        const string Scheme = "Basic ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var encoded = header[Scheme.Length..].Trim();
        var buffer = new byte[encoded.Length];
        if (!Convert.TryFromBase64String(encoded, buffer, out var written))
        {
            return false;
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(buffer, 0, written);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return false;
        }

        (user, password) = (text[..colon], text[(colon + 1)..]);
        return true;
    }

    private const string UserItem = "nixery.user";

    private void RequireBasicUser(HttpContext context) => context.Items[UserItem] = BasicUser(context);

    private async Task RequireTokenAsync(HttpContext context, AccessScope? needed)
    {
        var challenge = $"Bearer realm=\"{Realm(context)}\",service=\"{options.Service}\"" + (needed is null ? "" : $",scope=\"{needed}\"");
        var what = needed is null ? "" : $" with scope={needed}";
        if (BearerOf(context) is not { } bearer)
        {
            throw Unauthorized(
                $"authentication required: get a token from {Realm(context)}{what} (docker login, podman login and skopeo --creds do it)",
                challenge);
        }

        var (claims, problem) = await tokens.ValidateAsync(bearer);
        if (claims is null)
        {
            logger.LogInformation("bearer token refused: {Reason}", problem);
            throw Unauthorized($"{problem}: get a new one from {Realm(context)}{what}", challenge + ",error=\"invalid_token\"");
        }

        if (needed is not null && !claims.Access.Any(a => a.Covers(needed)))
        {
            var granted = claims.Access.Count == 0 ? "nothing" : string.Join(", ", claims.Access);
            logger.LogInformation("token of {User} grants {Granted}, not {Scope}", claims.Subject, granted, needed);
            throw Unauthorized(
                $"the token grants {granted}, not {needed}: ask {Realm(context)} for scope={needed}",
                challenge + ",error=\"insufficient_scope\"");
        }

        if (claims.Subject is { Length: > 0 } subject)
        {
            context.Items[UserItem] = subject;
        }
    }

    /// <summary>The token of "Bearer &lt;token&gt;", or null when the header is not one.</summary>
    private static string? BearerOf(HttpContext context)
    {
        const string Scheme = "Bearer ";
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) && header[Scheme.Length..].Trim() is { Length: > 0 } token ? token : null;
    }

    private static string? FirstValue(string? header) =>
        header?.Split(',')[0].Trim() is { Length: > 0 } first ? first : null;

    private static RegistryException Unauthorized(string message, string challenge) =>
        new(ErrorCode.Unauthorized, message, new Dictionary<string, string> { ["WWW-Authenticate"] = challenge });
}
