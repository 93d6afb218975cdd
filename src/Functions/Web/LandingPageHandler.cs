// GET and HEAD /: a small HTML page for whoever opens the registry in a browser: how to pull
// (the image name is the package list) and the builds that failed recently, with their
// reasons, as Nixery's landing page does. Everything that comes from outside — the Host
// header, image names, reasons, log lines — is HTML-encoded. No scripts; the log of a
// failure folds away in <details>. The same list as JSON is at /failures.
using System.Globalization;
using System.Net;
using System.Text;
using Nixery.Core.Options;
using Nixery.Functions.Builds;

namespace Nixery.Functions.Web;

public sealed class LandingPageHandler(RecentFailures failures, StatusOptions options)
{
    private const string Style =
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}"
        + "pre{background:#f4f4f4;padding:.5rem;overflow-x:auto}"
        + "table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;border-bottom:1px solid #ddd}";

    public async Task HandleAsync(HttpContext context)
    {
        var list = await failures.GetAsync(context.RequestAborted);
        var host = context.Request.Host.HasValue ? context.Request.Host.Value! : "<this host>";
        await WebResponse.WriteAsync(context, "text/html; charset=utf-8", Encoding.UTF8.GetBytes(Render(host, list)));
    }

    private string Render(string host, IReadOnlyList<RecentFailure> list)
    {
        var page = new StringBuilder();
        page.Append("<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Nixery on Azure</title><style>")
            .Append(Style).Append("</style></head>\n<body>\n<h1>Nixery on Azure</h1>\n")
            .Append("<p>A container registry that builds images from Nix packages on demand: the image name is the package list.</p>\n")
            .Append("<pre>docker pull ").Append(Html(host)).Append("/shell/git/htop</pre>\n")
            .Append("<p><code>shell</code> adds the package set's shell (bash, coreutils, …); <code>arm64</code> builds for aarch64. ")
            .Append("The first pull of an image builds it; clients are told to retry until it is ready.</p>\n")
            .Append("<h2>Recent failures</h2>\n<p>Builds that failed in the last ")
            .Append(Duration(options.FailureTtl))
            .Append("; pulls of these images are answered with the reason until then (newest first, at most ")
            .Append(RecentFailures.MaxListed.ToString(CultureInfo.InvariantCulture))
            .Append("; as JSON: <a href=\"/failures\">/failures</a>).</p>\n");
        if (list.Count == 0)
        {
            page.Append("<p>None.</p>\n");
        }
        else
        {
            page.Append("<table>\n<tr><th>image</th><th>reason</th><th>failed at</th></tr>\n");
            foreach (var failure in list)
            {
                page.Append("<tr><td><code>").Append(Html(failure.Image ?? "(not recorded)")).Append("</code></td><td>")
                    .Append(Html(failure.Reason ?? "(no reason recorded)"));
                if (failure.Log is { Count: > 0 } log)
                {
                    page.Append("<details><summary>log</summary><pre>").Append(Html(string.Join('\n', log))).Append("</pre></details>");
                }

                var at = failure.At.ToUniversalTime();
                page.Append("</td><td><time datetime=\"").Append(at.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)).Append("\">")
                    .Append(at.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).Append(" UTC</time></td></tr>\n");
            }

            page.Append("</table>\n");
        }

        return page.Append("</body>\n</html>\n").ToString();
    }

    private static string Html(string text) => WebUtility.HtmlEncode(text);

    private static string Duration(TimeSpan span)
    {
        var (count, unit) = span.TotalSeconds >= 60 && span.TotalSeconds % 60 == 0 ? (span.TotalMinutes, "minute") : (span.TotalSeconds, "second");
        return $"{count.ToString("0", CultureInfo.InvariantCulture)} {unit}{(count == 1 ? "" : "s")}";
    }
}
