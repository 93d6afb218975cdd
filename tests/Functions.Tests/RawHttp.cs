// Sends a request exactly as written (no URI normalisation, no header validation), so the
// robustness tests can put "..", encoded slashes and odd headers on the wire as a hostile
// client would. HTTP/1.1 with Connection: close; the answer is read to the end.
using System.Net.Sockets;
using System.Text;

namespace Nixery.Functions.Tests;

internal sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body);

internal static class RawHttp
{
    public static async Task<RawResponse> SendAsync(Uri server, string method, string target, IEnumerable<(string Name, string Value)>? headers = null)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        await using var stream = tcp.GetStream();
        var request = new StringBuilder();
        request.Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\n");
        request.Append("Host: ").Append(server.Host).Append(':').Append(server.Port).Append("\r\n");
        foreach (var (name, value) in headers ?? [])
        {
            request.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        request.Append("Connection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));
        using var answer = new MemoryStream();
        await stream.CopyToAsync(answer);
        var text = Encoding.UTF8.GetString(answer.ToArray());

        var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = headerEnd < 0 ? text : text[..headerEnd];
        var lines = head.Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var parsed = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            parsed[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        return new RawResponse(status, parsed, headerEnd < 0 ? "" : text[(headerEnd + 4)..]);
    }
}
