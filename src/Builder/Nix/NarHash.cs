// The SHA-256 of a store path's NAR serialisation, which `nix path-info --json` prints as
// "sha256:<52 chars of Nix base-32>" (Nix 2.8) or "sha256-<base64>" (SRI, newer Nix), turned
// into the lower-case hex an SBOM's hash field takes. Nix's base-32 is its own: the alphabet
// drops e, o, u and t, and the string is written from the last 5-bit group to the first
// (libutil/hash.cc, printHash32 / parseHash32), so it is decoded here as Nix decodes it.
namespace Nixery.Builder.Nix;

public static class NarHash
{
    private const string Alphabet = "0123456789abcdfghijklmnpqrsvwxyz";

    private const int Sha256Size = 32;

    /// <summary>The hex digest of a path-info "narHash", or null if it is no SHA-256 in either form.</summary>
    public static string? ToHex(string? narHash)
    {
        if (narHash is null)
        {
            return null;
        }

        if (narHash.StartsWith("sha256:", StringComparison.Ordinal))
        {
            var text = narHash["sha256:".Length..];
            return text.Length == 64 && text.All(char.IsAsciiHexDigitLower) ? text
                : FromBase32(text) is { } bytes ? Convert.ToHexStringLower(bytes) : null;
        }

        if (narHash.StartsWith("sha256-", StringComparison.Ordinal))
        {
            var bytes = new byte[Sha256Size];
            return Convert.TryFromBase64String(narHash["sha256-".Length..], bytes, out var written) && written == Sha256Size
                ? Convert.ToHexStringLower(bytes)
                : null;
        }

        return null;
    }

    private static byte[]? FromBase32(string text)
    {
        var length = (Sha256Size * 8 - 1) / 5 + 1; // 52
        if (text.Length != length)
        {
            return null;
        }

        var hash = new byte[Sha256Size];
        for (var k = 0; k < length; k++)
        {
            var digit = Alphabet.IndexOf(text[k], StringComparison.Ordinal);
            if (digit < 0)
            {
                return null;
            }

            var n = length - k - 1;
            var b = n * 5;
            var i = b / 8;
            var j = b % 8;
            hash[i] |= (byte)(digit << j);
            if (i < Sha256Size - 1)
            {
                hash[i + 1] |= (byte)(digit >> (8 - j));
            }
            else if (digit >> (8 - j) != 0)
            {
                return null;
            }
        }

        return hash;
    }
}
