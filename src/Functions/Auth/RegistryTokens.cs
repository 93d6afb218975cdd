// The bearer tokens of NIXERY_AUTH=token: JWTs as distribution's token spec describes them
// (docs/spec/auth/jwt.md: iss, sub, aud = the service, exp, nbf, iat, jti, and "access", the
// list of scopes granted), signed and checked by Microsoft.IdentityModel.JsonWebTokens with
// HMAC-SHA256 under NIXERY_AUTH_TOKEN_KEY. The same app issues and checks them, so a shared
// secret is enough: no key pair, no certificate chain in the header as distribution's
// separate token server needs. A token is checked for its signature, algorithm (HS256 only),
// issuer, audience and lifetime (30 s of clock skew between instances), then its access list
// is read from the validated payload.
// https://github.com/distribution/distribution/blob/main/docs/content/spec/auth/jwt.md
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Nixery.Functions.Auth;

/// <summary>A token's payload (docs/spec/auth/jwt.md, "Token claims").</summary>
public sealed record TokenClaims(
    [property: JsonPropertyName("iss")] string Issuer,
    [property: JsonPropertyName("sub")] string Subject,
    [property: JsonPropertyName("aud")] string Audience,
    [property: JsonPropertyName("exp")] long Expires,
    [property: JsonPropertyName("nbf")] long NotBefore,
    [property: JsonPropertyName("iat")] long IssuedAt,
    [property: JsonPropertyName("jti")] string Id,
    [property: JsonPropertyName("access")] IReadOnlyList<AccessScope> Access);

/// <summary>An issued token and when, as the token endpoint answers it.</summary>
public sealed record IssuedToken(string Token, DateTimeOffset IssuedAt, int ExpiresIn);

public sealed class RegistryTokens
{
    public const string Issuer = "nixery";

    private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly SigningCredentials _signing;
    private readonly TokenValidationParameters _validation;
    private readonly AuthOptions _options;
    private readonly TimeProvider _time;

    public RegistryTokens(AuthOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        // Unset only when tokens are off (AuthOptions.Check): then nothing is issued or checked.
        var key = new SymmetricSecurityKey(options.KeyBytes() ?? RandomNumberGenerator.GetBytes(AuthOptions.MinKeyBytes));
        _signing = new SigningCredentials(key, SecurityAlgorithms.HmacSha256);
        _validation = new TokenValidationParameters
        {
            IssuerSigningKey = key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ValidIssuer = Issuer,
            ValidAudience = options.Service,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            // The lifetime by this app's clock (a FakeTimeProvider in tests), with ClockSkew.
            LifetimeValidator = (notBefore, expires, _, _) =>
                expires is { } end && end.ToUniversalTime() + ClockSkew > _time.GetUtcNow().UtcDateTime
                && (notBefore is not { } start || start.ToUniversalTime() - ClockSkew <= _time.GetUtcNow().UtcDateTime),
        };
    }

    /// <summary>A new random key, base64, for an embedded default started without one.</summary>
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(AuthOptions.MinKeyBytes));

    public IssuedToken Issue(string subject, IReadOnlyList<AccessScope> access)
    {
        var now = _time.GetUtcNow();
        var seconds = now.ToUnixTimeSeconds();
        var claims = new TokenClaims(
            Issuer, subject, _options.Service, seconds + _options.TokenLifetimeSeconds, seconds, seconds, Guid.NewGuid().ToString("N"), access);
        var token = _handler.CreateToken(JsonSerializer.Serialize(claims, AuthJson.Default.TokenClaims), _signing);
        return new IssuedToken(token, DateTimeOffset.FromUnixTimeSeconds(seconds), _options.TokenLifetimeSeconds);
    }

    /// <summary>The claims of a valid token, or null with why it is not one.</summary>
    public async Task<(TokenClaims? Claims, string? Problem)> ValidateAsync(string token)
    {
        var result = await _handler.ValidateTokenAsync(token, _validation);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return (null, result.Exception switch
            {
                SecurityTokenExpiredException or SecurityTokenInvalidLifetimeException => "the token has expired",
                SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "the token's signature is not this registry's",
                SecurityTokenInvalidAudienceException => $"the token is not for the service '{_options.Service}'",
                _ => "the token is not one this registry issued",
            });
        }

        try
        {
            var claims = JsonSerializer.Deserialize(Base64UrlEncoder.DecodeBytes(jwt.EncodedPayload), AuthJson.Default.TokenClaims);
            return claims is null ? (null, "the token has no claims") : (claims, null);
        }
        catch (JsonException)
        {
            return (null, "the token's access claim is malformed");
        }
    }
}

/// <summary>The token endpoint's answer (docs/spec/auth/token.md, "Token Response Fields"):
/// "access_token" repeats "token" for OAuth 2.0 clients.</summary>
public sealed record TokenResponse(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("issued_at")] string IssuedAt);

[JsonSerializable(typeof(TokenClaims))]
[JsonSerializable(typeof(TokenResponse))]
internal sealed partial class AuthJson : JsonSerializerContext;
