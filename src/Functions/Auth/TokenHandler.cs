// GET /token, the token endpoint of NIXERY_AUTH=token, on the registry's own app (Docker's
// token flow, distribution docs/spec/auth/token.md):
//
//   GET /token?service=nixery&scope=repository:shell/git:pull[&scope=…]   Authorization: Basic …
//   200 {"token":"<jwt>","access_token":"<jwt>","expires_in":300,"issued_at":"2026-…Z"}
//
// Credentials are HTTP Basic of a user (RegistryUsers); none at all gets a token only with
// NIXERY_AUTH_ANONYMOUS=pull; wrong or malformed ones get 401 UNAUTHORIZED with a Basic
// challenge, so `docker login` and `podman login` (which ask this endpoint without a scope)
// report a failed login. Each scope asked for (the parameter repeats, and may hold several
// scopes separated by spaces, as OAuth 2.0 writes them) is granted as far as this registry
// grants anything (AccessScope.Granted: pull of a valid name, the catalog); the rest is left
// out, as the spec lets a token server do, and the registry then refuses what the token lacks.
// The "service" parameter is not checked: the token's audience is always this registry's
// service. Tokens are never cached by intermediaries (Cache-Control: no-store, RFC 6749 §5.1).
// Failed logins are limited per client (NIXERY_AUTH_FAILURE_RATE a minute, Builds/ClientRate.cs):
// each costs a PBKDF2 verification of 600,000 iterations (PasswordHash), so a client guessing
// passwords would otherwise spend the app's CPU at will. Once a client's failures are used up,
// every request it makes here with Basic credentials is answered 429 with Retry-After before any
// hash is computed, until its bucket refills; requests without credentials, or with a header that
// is no Basic credentials, cost no hash and are neither limited nor counted.
// https://github.com/distribution/distribution/blob/main/docs/content/spec/auth/token.md
using System.Globalization;
using System.Text.Json;
using Nixery.Core.Errors;
using Nixery.Functions.Builds;

namespace Nixery.Functions.Auth;

public sealed class TokenHandler(RegistryAuth auth, RegistryTokens tokens, LimitOptions limits, ILogger<TokenHandler> logger) : IDisposable
{
    private readonly ClientRate _failures = new(limits.AuthFailuresPerMinute);

    public void Dispose() => _failures.Dispose();

    public Task HandleAsync(HttpContext context)
    {
        var options = auth.Options;
        if (options.Mode != AuthOptions.Token)
        {
            throw new RegistryException(
                ErrorCode.NameUnknown,
                options.Mode == AuthOptions.Basic
                    ? $"this registry takes HTTP Basic credentials on each request ({AuthOptions.ModeKey}=basic) and has no token endpoint"
                    : $"authentication is off ({AuthOptions.ModeKey}=off): pull without credentials");
        }

        var user = CheckCredentials(context, options.AllowsAnonymousPull);
        var requested = context.Request.Query["scope"]
            .SelectMany(s => (s ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(s => AccessScope.TryParse(s) ?? throw new RegistryException(
                ErrorCode.NameInvalid, $"the scope '{s}' is not <type>:<name>:<actions>, e.g. repository:shell/git:pull"))
            .ToList();
        var granted = requested.Select(s => s.Granted()).OfType<AccessScope>().Distinct(ScopeComparer.Instance).ToList();
        var issued = tokens.Issue(user ?? "", granted);
        logger.LogInformation(
            "token issued to {User} for {Scope}", user ?? "(anonymous)", granted.Count == 0 ? "(no scope)" : string.Join(" ", granted));

        var body = JsonSerializer.SerializeToUtf8Bytes(
            new TokenResponse(issued.Token, issued.Token, issued.ExpiresIn, issued.IssuedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)),
            AuthJson.Default.TokenResponse);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>The user of the request's Basic credentials (null for none, where allowed), within
    /// the client's budget of failed logins.</summary>
    private string? CheckCredentials(HttpContext context, bool allowNone)
    {
        // Only credentials that reach a password check cost a hash; no header, another scheme
        // or a malformed one is refused (or let through) for free.
        if (!RegistryAuth.TryReadBasic(context.Request.Headers.Authorization.ToString(), out _, out _))
        {
            return auth.BasicUser(context, allowNone);
        }

        var client = ClientKey.Of(context, limits);
        if (!_failures.HasLeft(client, out var retryAfter))
        {
            logger.LogInformation("client {Client} passed NIXERY_AUTH_FAILURE_RATE; answering 429 with Retry-After {RetryAfter}", client, retryAfter);
            throw new RegistryException(
                ErrorCode.TooManyRequests,
                $"too many failed logins from your address: {limits.AuthFailuresPerMinute} a minute are allowed ({LimitOptions.AuthFailureRateKey}); retry in {retryAfter} s with the right user name and password",
                new Dictionary<string, string> { ["Retry-After"] = ClientRate.Header(retryAfter) });
        }

        try
        {
            return auth.BasicUser(context, allowNone);
        }
        catch (RegistryException e) when (e.Code == ErrorCode.Unauthorized)
        {
            _failures.TryTake(client, out _);
            throw;
        }
    }

    /// <summary>Scopes are records with a list inside: equal when they print the same.</summary>
    private sealed class ScopeComparer : IEqualityComparer<AccessScope>
    {
        public static readonly ScopeComparer Instance = new();

        public bool Equals(AccessScope? x, AccessScope? y) => x?.ToString() == y?.ToString();

        public int GetHashCode(AccessScope obj) => StringComparer.Ordinal.GetHashCode(obj.ToString());
    }
}
