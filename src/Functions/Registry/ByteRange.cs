// One "Range: bytes=…" request header against a blob of known length (RFC 9110 §14).
// Supported: a single range "a-b", "a-" or "-n". Several ranges are answered with the whole
// blob (a server may ignore Range). A malformed or unsatisfiable range is 416 with
// Content-Range: bytes */<length>, as the reference registry's http.ServeContent does.
using System.Globalization;
using Nixery.Core.Errors;

namespace Nixery.Functions.Registry;

public readonly record struct ByteRange(long Start, long Length)
{
    /// <summary>The range to send, or null for the whole blob.</summary>
    public static ByteRange? Parse(string? header, long size)
    {
        if (string.IsNullOrEmpty(header))
        {
            return null;
        }

        const string unit = "bytes=";
        if (!header.StartsWith(unit, StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid(header, size);
        }

        var spec = header[unit.Length..].Trim();
        if (spec.Contains(',', StringComparison.Ordinal))
        {
            return null;
        }

        var dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            throw Invalid(header, size);
        }

        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        if (first.Length == 0)
        {
            // Suffix range: the last n bytes.
            if (!TryNumber(last, out var suffix) || suffix == 0 || size == 0)
            {
                throw Invalid(header, size);
            }

            var length = Math.Min(suffix, size);
            return new ByteRange(size - length, length);
        }

        if (!TryNumber(first, out var start) || start >= size)
        {
            throw Invalid(header, size);
        }

        long end = size - 1;
        if (last.Length > 0)
        {
            if (!TryNumber(last, out var requestedEnd) || requestedEnd < start)
            {
                throw Invalid(header, size);
            }

            end = Math.Min(requestedEnd, size - 1);
        }

        return new ByteRange(start, end - start + 1);
    }

    public string ContentRange(long size) => $"bytes {Start}-{Start + Length - 1}/{size}";

    private static bool TryNumber(string text, out long value) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static RegistryException Invalid(string header, long size) =>
        new(ErrorCode.RangeInvalid,
            $"range '{(header.Length <= 100 ? header : header[..100])}' cannot be satisfied for a blob of {size} bytes",
            new Dictionary<string, string> { ["Content-Range"] = $"bytes */{size}" });
}
