// Content digests as the distribution spec defines them: "algorithm:hex". We only ever
// produce sha256, and we accept only sha256 (and sha512 for parsing) from clients, so a
// digest in a URL that we cannot have produced is answered with DIGEST_INVALID, not a lookup.
// https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Nixery.Core.Manifests;

public readonly partial record struct Digest(string Algorithm, string Hex)
{
    public override string ToString() => $"{Algorithm}:{Hex}";

    public static Digest Sha256(ReadOnlySpan<byte> content) =>
        new("sha256", Convert.ToHexStringLower(SHA256.HashData(content)));

    public static Digest FromSha256Hash(byte[] hash) => new("sha256", Convert.ToHexStringLower(hash));

    /// <summary>Lower-case hex SHA-256 of a text's UTF-8 bytes: the one hash of every key made
    /// from text (image keys, layer keys, source cache folders).</summary>
    public static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    /// <summary>Parses "sha256:&lt;64 lower-case hex&gt;" (or sha512 with 128); anything else is invalid.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out Digest? digest)
    {
        digest = null;
        if (text is null)
        {
            return false;
        }

        var match = DigestPattern().Match(text);
        if (!match.Success)
        {
            return false;
        }

        var algorithm = match.Groups[1].Value;
        var hex = match.Groups[2].Value;
        var expected = algorithm == "sha256" ? 64 : 128;
        if (hex.Length != expected)
        {
            return false;
        }

        digest = new Digest(algorithm, hex);
        return true;
    }

    // Grammar from the OCI image spec, narrowed to the registered algorithms.
    [GeneratedRegex(@"^(sha256|sha512):([a-f0-9]+)\z", RegexOptions.CultureInvariant)]
    private static partial Regex DigestPattern();
}
