// The one place the web pages turn text into HTML, and the page shell they share. Image
// names, package names and descriptions, failure reasons, log lines, the Host header and
// search queries all come from outside and can be hostile, so every string printed into a
// page goes through Encode (WebUtility.HtmlEncode: < > & " ' become entities, which makes it
// safe in text and in double-quoted attributes alike). Markup is only ever the literals here.
//
// Defence in depth: every page is sent with a Content-Security-Policy that allows no script
// but the one inline script of the landing page, by its hash (CSP Level 3, "hash-source"),
// so even markup that slipped through would not run.
// https://www.w3.org/TR/CSP3/#grammardef-hash-source
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Nixery.Functions.Web;

internal static class Html
{
    /// <summary>Colours chosen for WCAG 2.2 AA contrast (4.5:1 for text): #1a1a1a, #0b57d0 and
    /// #5a5a5a on white are 17:1, 6.6:1 and 6.9:1; the focus ring is visible on every element.</summary>
    private const string Style =
        "body{font-family:system-ui,sans-serif;max-width:64rem;margin:0 auto;padding:0 1rem 2rem;line-height:1.45;color:#1a1a1a;background:#fff}"
        + "header,footer{padding:1rem 0}footer{color:#5a5a5a;border-top:1px solid #ccc;margin-top:2rem}"
        + "a{color:#0b57d0}a:focus,input:focus,button:focus,summary:focus{outline:3px solid #b3261e;outline-offset:2px}"
        + "pre{background:#f2f2f2;padding:.5rem;overflow-x:auto}code{background:#f2f2f2;padding:0 .2rem}"
        + "table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;border-bottom:1px solid #ccc}"
        + "input[type=search]{font-size:1rem;padding:.3rem;min-width:16rem}button{font-size:1rem;padding:.3rem .8rem}"
        + ".muted{color:#5a5a5a}ul.builds{list-style:none;padding:0}ul.builds li{padding:.4rem 0;border-bottom:1px solid #ccc}"
        + ".state{font-weight:600;margin:0 .5rem}progress{width:10rem;vertical-align:middle}"
        + ".skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff}";

    /// <summary>Text as HTML; null as nothing.</summary>
    public static string Encode(string? text) => WebUtility.HtmlEncode(text ?? "");

    /// <summary>A time as a &lt;time&gt; element in UTC.</summary>
    public static string Time(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return $"<time datetime=\"{utc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}\">{utc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC</time>";
    }

    /// <summary>Bytes in binary units, e.g. "12.3 MiB".</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : $"{value.ToString(value < 10 ? "0.0" : "0", CultureInfo.InvariantCulture)} {units[unit]}";
    }

    /// <summary>The whole page: a skip link, header with the site's name, the main landmark
    /// holding <paramref name="main"/> (already HTML), and a footer.</summary>
    public static string Page(string title, string main, string? script = null)
    {
        var page = new StringBuilder();
        page.Append("<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            // No icon: an empty one keeps browsers from asking for /favicon.ico, a 404 each time.
            .Append("<link rel=\"icon\" href=\"data:,\">")
            .Append("<title>").Append(Encode(title)).Append("</title><style>").Append(Style).Append("</style></head>\n<body>\n")
            .Append("<a class=\"skip\" href=\"#main\">Skip to content</a>\n")
            .Append("<header><nav aria-label=\"site\"><a href=\"/\">Nixery on Azure</a> · <a href=\"/failures\">failures as JSON</a></nav></header>\n")
            .Append("<main id=\"main\">\n").Append(main).Append("</main>\n")
            .Append("<footer>Images are built on demand from Nix packages: the image name is the package list.</footer>\n");
        if (script is not null)
        {
            page.Append("<script>").Append(script).Append("</script>\n");
        }

        return page.Append("</body>\n</html>\n").ToString();
    }

    /// <summary>The Content-Security-Policy of a page: nothing from elsewhere, inline styles,
    /// and, when the page has one, its inline script by hash; EventSource connects to self.</summary>
    public static string ContentSecurityPolicy(string? script) =>
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        + (script is null ? "" : $"; script-src 'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(script)))}'");
}
