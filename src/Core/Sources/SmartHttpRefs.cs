// The refs of a git repository served over HTTP(S), read the way `git ls-remote` reads them
// but without git: the HTTP host on Azure Functions has no git binary. One GET of
// <repo>/info/refs?service=git-upload-pack answers with the "smart" ref advertisement
// (gitprotocol-http(5), "Smart Clients"; pkt-line framing in gitprotocol-common(5)):
//
//   001e# service=git-upload-pack\n  0000                       the service line, a flush
//   <4 hex length><sha1> HEAD\0<capabilities>\n                 the first ref carries capabilities
//   <4 hex length><sha1> refs/heads/main\n
//   <4 hex length><sha1> refs/tags/v1^{}\n                      an annotated tag, peeled
//   0000
//
// No Git-Protocol header is sent, so servers answer with protocol version 0, which lists
// every ref at once.
using System.Text;

namespace Nixery.Core.Sources;

public static class SmartHttpRefs
{
    /// <summary>Ref name → object id, HEAD and peeled tags (name^{}) included.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> ReadAsync(HttpClient http, string repository, TimeSpan timeout)
    {
        var url = repository.TrimEnd('/') + "/info/refs?service=git-upload-pack";
        byte[] body;
        using var deadline = new CancellationTokenSource(timeout);
        var cancellationToken = deadline.Token;
        try
        {
            using var response = await http.GetAsync(url, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new SourceUnavailableException($"{url} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            throw new SourceUnavailableException(
                e is OperationCanceledException ? $"{url} gave no answer within {timeout.TotalSeconds:0} s" : $"{url} could not be read: {e.Message}", e);
        }

        return Parse(body) ?? throw new SourceUnavailableException($"{url} is not a git smart-HTTP ref advertisement");
    }

    /// <summary>The refs of an advertisement, with or without the service line; null if it is not one.</summary>
    public static IReadOnlyDictionary<string, string>? Parse(ReadOnlySpan<byte> body)
    {
        var refs = new Dictionary<string, string>(StringComparer.Ordinal);
        var position = 0;
        while (position + 4 <= body.Length)
        {
            if (!int.TryParse(Encoding.ASCII.GetString(body.Slice(position, 4)), System.Globalization.NumberStyles.AllowHexSpecifier, null, out var length))
            {
                return null;
            }

            if (length == 0)
            {
                position += 4;
                continue;
            }

            if (length < 4 || position + length > body.Length)
            {
                return null;
            }

            var line = Encoding.UTF8.GetString(body.Slice(position + 4, length - 4)).TrimEnd('\n');
            position += length;
            if (line.StartsWith('#'))
            {
                continue;
            }

            var nul = line.IndexOf('\0', StringComparison.Ordinal);
            var entry = nul < 0 ? line : line[..nul];
            var space = entry.IndexOf(' ', StringComparison.Ordinal);
            if (space != 40)
            {
                return null;
            }

            refs[entry[(space + 1)..]] = entry[..space];
        }

        return position == body.Length ? refs : null;
    }
}
