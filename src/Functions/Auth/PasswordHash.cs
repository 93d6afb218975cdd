// The one home of password hashes for registry users (NIXERY_AUTH_USERS, NIXERY_AUTH_USERS_FILE):
// PBKDF2 with HMAC-SHA256 and a random 16-byte salt per password, through the runtime's
// Rfc2898DeriveBytes.Pbkdf2 (no hashing code of our own), written as one self-describing token
//
//   pbkdf2-sha256$<iterations>$<salt, base64>$<32-byte hash, base64>
//
// so the work factor can rise without breaking hashes already handed out. 600,000 iterations is
// OWASP's figure for PBKDF2-HMAC-SHA256 (Password Storage Cheat Sheet, 2023); fewer than 100,000
// (ASP.NET Core Identity's PasswordHasher V3 count) is refused at start-up. Comparison is in
// constant time (CryptographicOperations.FixedTimeEquals). `Nixery.Embedded.dll hash-password`
// prints a hash (README, Authentication).
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Nixery.Functions.Auth;

public sealed record PasswordHash(int Iterations, byte[] Salt, byte[] Hash)
{
    public const string Scheme = "pbkdf2-sha256";

    public const int DefaultIterations = 600_000;

    public const int MinIterations = 100_000;

    private const int SaltBytes = 16;

    private const int HashBytes = 32;

    /// <summary>What a hash looks like, for error sentences.</summary>
    public const string Format = Scheme + "$<iterations>$<salt>$<hash>";

    public static PasswordHash Create(string password, int iterations = DefaultIterations)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        return new PasswordHash(iterations, salt, Derive(password, salt, iterations));
    }

    public bool Verify(string password) =>
        CryptographicOperations.FixedTimeEquals(Derive(password, Salt, Iterations), Hash);

    public override string ToString() =>
        string.Join('$', Scheme, Iterations.ToString(CultureInfo.InvariantCulture), Convert.ToBase64String(Salt), Convert.ToBase64String(Hash));

    /// <summary>A hash as <see cref="ToString"/> writes it, or null with the reason it is not one.</summary>
    public static PasswordHash? TryParse(string text, out string? problem)
    {
        var parts = text.Split('$');
        problem = null;
        if (parts.Length != 4 || parts[0] != Scheme)
        {
            problem = $"it is not {Format}";
            return null;
        }

        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations < MinIterations)
        {
            problem = $"its iteration count '{parts[1]}' must be a whole number of at least {MinIterations}";
            return null;
        }

        var salt = FromBase64(parts[2]);
        var hash = FromBase64(parts[3]);
        if (salt is not { Length: >= 8 } || hash is not { Length: HashBytes })
        {
            problem = $"its salt or hash is not base64 of the right length ({Format})";
            return null;
        }

        return new PasswordHash(iterations, salt, hash);
    }

    private static byte[] Derive(string password, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);

    private static byte[]? FromBase64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out var written) ? buffer[..written] : null;
    }
}
