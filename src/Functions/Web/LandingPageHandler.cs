// GET and HEAD /: the registry's web page, drawn on the server (no front-end build step), as
// Nixery's landing page is, and more:
//   - how to pull, with this request's host;
//   - a package search (GET /?q=…, a plain form) over the attribute index of the default
//     source at its current revision (PackageIndex, written by the worker once it has
//     evaluated that revision; until then the page says so);
//   - the package sources and the revisions they stand for now;
//   - the builds in progress (BuildBoard), with live progress through Server-Sent Events
//     (/events, BuildEventsHandler) by the one small inline script; without JavaScript the
//     page is a snapshot and says so;
//   - the recent builds with their time (BuiltImages), each linking to its layer picture
//     (/images/<name>, ImagePageHandler);
//   - the recent failures with their reasons and logs (RecentFailures; as JSON at /failures).
// Everything from outside — the Host header, the query, image and package names, revisions,
// reasons, log lines — is printed through Html.Encode.
using System.Globalization;
using System.Text;
using Nixery.Core.Builds;
using Nixery.Core.Errors;
using Nixery.Core.Options;
using Nixery.Core.Sources;
using Nixery.Core.Storage;
using Nixery.Functions.Builds;

namespace Nixery.Functions.Web;

public sealed class LandingPageHandler(
    RecentFailures failures,
    StatusOptions options,
    SourceCatalog sources,
    RegistryStore store,
    BuildBoard board,
    BuiltImages images,
    BuildLedger ledger,
    ILogger<LandingPageHandler> logger)
{
    /// <summary>The longest search query answered.</summary>
    public const int MaxQueryLength = 100;

    /// <summary>The most search results shown.</summary>
    public const int MaxResults = 50;

    /// <summary>The most recent builds listed.</summary>
    public const int MaxRecentBuilds = 20;

    /// <summary>The live updates: every "build" event updates (or adds) that build's row, built
    /// with textContent only, so nothing in an event is ever parsed as markup.</summary>
    internal const string LiveScript =
        "(function(){if(!window.EventSource){return;}"
        + "var list=document.getElementById('builds'),empty=document.getElementById('builds-empty'),live=document.getElementById('live');"
        + "function el(tag,cls,text){var e=document.createElement(tag);if(cls){e.className=cls;}if(text!=null){e.textContent=text;}return e;}"
        + "var source=new EventSource('/events');"
        + "source.onopen=function(){live.textContent='Live: this list follows the builds as they run.';};"
        + "source.onerror=function(){live.textContent='Live updates interrupted; reconnecting.';};"
        + "source.addEventListener('build',function(m){var b=JSON.parse(m.data);var id='build-'+b.key;var row=document.getElementById(id);"
        + "if(!row){row=el('li');row.id=id;list.insertBefore(row,list.firstChild);}"
        + "var name=b.image||row.getAttribute('data-image')||'';if(name){row.setAttribute('data-image',name);}"
        + "row.setAttribute('data-state',b.state);row.setAttribute('data-phase',b.phase);"
        + "row.setAttribute('data-layers-ready',b.layersReady==null?'':b.layersReady);row.setAttribute('data-layers-total',b.layersTotal==null?'':b.layersTotal);"
        + "row.textContent='';row.appendChild(el('span','image',name||('image '+b.key.substring(0,12))));"
        + "row.appendChild(el('span','state',b.state));row.appendChild(el('span','phase',b.phase));"
        + "if(b.layersTotal!=null){var p=el('progress');p.max=b.layersTotal;p.value=b.layersReady||0;p.setAttribute('aria-label','layers packed');row.appendChild(p);"
        + "row.appendChild(el('span','layers',' '+(b.layersReady||0)+' of '+b.layersTotal+' layers packed'+(b.layersBytes!=null?', '+(b.layersBytes/1048576).toFixed(1)+' MiB':'')));}"
        + "if(b.state==='done'&&name){row.appendChild(document.createTextNode(' '));var a=el('a','picture','layers of '+name);a.href='/images/'+encodeURI(name);row.appendChild(a);}"
        + "if(b.state==='failed'&&b.reason){row.appendChild(el('div','reason',b.reason));}"
        + "empty.hidden=list.children.length>0;});})();";

    public async Task HandleAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var host = context.Request.Host.HasValue ? context.Request.Host.Value! : "<this host>";
        var query = context.Request.Query["q"].ToString().Trim();

        var main = new StringBuilder();
        main.Append("<h1>Nixery on Azure</h1>\n")
            .Append("<p>A container registry that builds images from Nix packages on demand: the image name is the package list.</p>\n")
            .Append("<section aria-labelledby=\"pull\"><h2 id=\"pull\">How to pull</h2>\n")
            .Append("<pre>docker pull ").Append(Html.Encode(host)).Append("/shell/git/htop</pre>\n")
            .Append("<p><code>shell</code> adds the package set's shell (bash, coreutils, …); <code>arm64</code> builds for aarch64. ")
            .Append("The first pull of an image builds it; clients are told to retry until it is ready.</p></section>\n");

        var revisions = await RenderSourcesAsync(ct);
        await RenderSearchAsync(main, host, query, revisions.Default, ct);
        main.Append(revisions.Html);
        RenderBuilds(main, await board.GetAsync(ct));
        await RenderRecentAsync(main, await images.RecentAsync(MaxRecentBuilds, ct), ct);
        RenderFailures(main, await failures.GetAsync(ct));

        await WebResponse.WriteHtmlAsync(context, Html.Page("Nixery on Azure", main.ToString(), LiveScript), LiveScript);
    }

    private async Task<(string Html, PackageSource? Default)> RenderSourcesAsync(CancellationToken ct)
    {
        var html = new StringBuilder("<section aria-labelledby=\"sources\"><h2 id=\"sources\">Package sources</h2>\n")
            .Append("<p>A source other than the default is picked by the name's first component (<code>stable/shell/git</code>) or the tag (<code>shell/git:stable</code>).</p>\n")
            .Append("<table>\n<tr><th scope=\"col\">name</th><th scope=\"col\">kind</th><th scope=\"col\">location</th><th scope=\"col\">current revision</th></tr>\n");
        PackageSource? resolvedDefault = null;
        foreach (var source in sources.All)
        {
            string revision;
            try
            {
                var resolved = await source.ResolveAsync(SourceCatalog.LatestTag, ct);
                resolvedDefault ??= source == sources.Default ? resolved : null;
                revision = $"<code>{Html.Encode(resolved.Revision)}</code>";
            }
            catch (Exception e) when (e is RegistryException or SourceUnavailableException)
            {
                logger.LogWarning("web page: source {SourceName} did not resolve: {Error}", source.Definition.Name, e.Message);
                revision = $"<span class=\"muted\">unavailable: {Html.Encode(e.Message)}</span>";
            }

            html.Append("<tr><td>").Append(Html.Encode(source.Definition.Name)).Append("</td><td>").Append(Html.Encode(source.Definition.Kind))
                .Append("</td><td><code>").Append(Html.Encode(WithoutCredentials(source.Definition.Location))).Append("</code></td><td>")
                .Append(revision).Append("</td></tr>\n");
        }

        html.Append("</table></section>\n");
        return (html.ToString(), resolvedDefault);
    }

    private async Task RenderSearchAsync(StringBuilder main, string host, string query, PackageSource? source, CancellationToken ct)
    {
        main.Append("<section aria-labelledby=\"search\"><h2 id=\"search\">Find a package</h2>\n")
            .Append("<form method=\"get\" action=\"/\" role=\"search\"><label for=\"q\">Package name or description</label> ")
            .Append("<input type=\"search\" id=\"q\" name=\"q\" maxlength=\"").Append(MaxQueryLength.ToString(CultureInfo.InvariantCulture))
            .Append("\" value=\"").Append(Html.Encode(query)).Append("\"> <button type=\"submit\">Search</button></form>\n");
        if (query.Length == 0)
        {
            main.Append("</section>\n");
            return;
        }

        var index = source is null ? null : await store.GetPackageIndexAsync(source, ct);
        if (query.Length > MaxQueryLength)
        {
            main.Append("<p role=\"status\">Search for at most ").Append(MaxQueryLength.ToString(CultureInfo.InvariantCulture)).Append(" characters.</p>");
        }
        else if (index is null)
        {
            main.Append("<p role=\"status\" id=\"search-empty\">No package index of the default source")
                .Append(source is null ? "" : $" at revision <code>{Html.Encode(source.Revision)}</code>")
                .Append(" yet: a worker writes it once it has evaluated that revision (with the first build from it).</p>");
        }
        else
        {
            var found = PackageSearch.Find(index, query, MaxResults);
            main.Append("<p role=\"status\">").Append(found.Count == 0 ? "No package matches " : $"{found.Count.ToString(CultureInfo.InvariantCulture)} packages match ")
                .Append("<q>").Append(Html.Encode(query)).Append("</q>").Append(found.Count == MaxResults ? " (the first shown)" : "").Append(".</p>\n");
            if (found.Count > 0)
            {
                main.Append("<table id=\"results\">\n<tr><th scope=\"col\">package</th><th scope=\"col\">version</th><th scope=\"col\">description</th><th scope=\"col\">pull</th></tr>\n");
                foreach (var package in found)
                {
                    main.Append("<tr><td>").Append(Html.Encode(package.Name)).Append("</td><td>").Append(Html.Encode(package.Version))
                        .Append("</td><td>").Append(Html.Encode(package.Description)).Append("</td><td><code>docker pull ")
                        .Append(Html.Encode($"{host}/shell/{package.Name}")).Append("</code></td></tr>\n");
                }

                main.Append("</table>\n");
            }
        }

        main.Append("</section>\n");
    }

    private static void RenderBuilds(StringBuilder main, IReadOnlyList<BuildView> builds)
    {
        main.Append("<section aria-labelledby=\"building\"><h2 id=\"building\">Builds in progress</h2>\n")
            .Append("<p id=\"live\" class=\"muted\" aria-live=\"polite\">A snapshot; with JavaScript this list follows the builds as they run.</p>\n")
            .Append("<ul class=\"builds\" id=\"builds\" aria-live=\"polite\">\n");
        foreach (var build in builds)
        {
            var name = build.Image is null ? $"image {build.Key[..Math.Min(12, build.Key.Length)]}" : build.Image;
            main.Append("<li id=\"build-").Append(Html.Encode(build.Key)).Append("\" data-state=\"").Append(Html.Encode(build.State))
                .Append("\" data-phase=\"").Append(Html.Encode(build.Phase)).Append('"');
            if (build.Image is not null)
            {
                main.Append(" data-image=\"").Append(Html.Encode(build.Image)).Append('"');
            }

            main.Append("><span class=\"image\">").Append(Html.Encode(name)).Append("</span><span class=\"state\">").Append(Html.Encode(build.State))
                .Append("</span><span class=\"phase\">").Append(Html.Encode(build.Phase)).Append("</span>");
            if (build.LayersTotal is { } total)
            {
                var ready = build.LayersReady ?? 0;
                main.Append("<progress max=\"").Append(total.ToString(CultureInfo.InvariantCulture)).Append("\" value=\"").Append(ready.ToString(CultureInfo.InvariantCulture))
                    .Append("\" aria-label=\"layers packed\"></progress><span class=\"layers\"> ")
                    .Append(ready.ToString(CultureInfo.InvariantCulture)).Append(" of ").Append(total.ToString(CultureInfo.InvariantCulture)).Append(" layers packed")
                    .Append(build.LayersBytes is { } bytes ? ", " + (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB" : "").Append("</span>");
            }

            if (build.State == "done" && build.Image is not null)
            {
                main.Append(" <a class=\"picture\" href=\"/images/").Append(Html.Encode(build.Image)).Append("\">layers of ").Append(Html.Encode(build.Image)).Append("</a>");
            }

            if (build.State == "failed" && build.Reason is not null)
            {
                main.Append("<div class=\"reason\">").Append(Html.Encode(build.Reason)).Append("</div>");
            }

            main.Append("</li>\n");
        }

        main.Append("</ul>\n<p id=\"builds-empty\"").Append(builds.Count > 0 ? " hidden" : "").Append(">No builds in progress.</p></section>\n");
    }

    /// <summary>The image records name their packages as built (meta-packages expanded); the
    /// name a pull used is in the build's done status (workers since the web page), which the
    /// image page resolves again, so only a named image links to its picture.</summary>
    private async Task RenderRecentAsync(StringBuilder main, IReadOnlyList<BuiltImage> recent, CancellationToken ct)
    {
        main.Append("<section aria-labelledby=\"recent\"><h2 id=\"recent\">Recent builds</h2>\n");
        if (recent.Count == 0)
        {
            main.Append("<p>No image built yet.</p></section>\n");
            return;
        }

        main.Append("<table>\n<tr><th scope=\"col\">image</th><th scope=\"col\">packages</th><th scope=\"col\">layers</th><th scope=\"col\">built at</th></tr>\n");
        foreach (var image in recent)
        {
            string? name;
            try
            {
                name = (await ledger.GetAsync(image.Key, ct))?.Image;
            }
            catch (System.Text.Json.JsonException)
            {
                name = null;
            }

            main.Append("<tr><td>");
            if (name is null)
            {
                main.Append("<span class=\"muted\">(not recorded)</span>");
            }
            else
            {
                main.Append("<a href=\"/images/").Append(Html.Encode(name)).Append("\">").Append(Html.Encode(name)).Append("</a>");
            }

            main.Append("</td><td>").Append(Html.Encode(string.Join(' ', image.Packages))).Append("</td><td>")
                .Append(image.Layers.Count.ToString(CultureInfo.InvariantCulture)).Append("</td><td>").Append(Html.Time(image.Written)).Append("</td></tr>\n");
        }

        main.Append("</table></section>\n");
    }

    private void RenderFailures(StringBuilder main, IReadOnlyList<RecentFailure> list)
    {
        main.Append("<section aria-labelledby=\"failures\"><h2 id=\"failures\">Recent failures</h2>\n<p>Builds that failed in the last ")
            .Append(Duration(options.FailureTtl))
            .Append("; pulls of these images are answered with the reason until then (newest first, at most ")
            .Append(RecentFailures.MaxListed.ToString(CultureInfo.InvariantCulture))
            .Append("; as JSON: <a href=\"/failures\">/failures</a>).</p>\n");
        if (list.Count == 0)
        {
            main.Append("<p>None.</p></section>\n");
            return;
        }

        main.Append("<table>\n<tr><th scope=\"col\">image</th><th scope=\"col\">reason</th><th scope=\"col\">failed at</th></tr>\n");
        foreach (var failure in list)
        {
            main.Append("<tr><td><code>").Append(Html.Encode(failure.Image ?? "(not recorded)")).Append("</code></td><td>")
                .Append(Html.Encode(failure.Reason ?? "(no reason recorded)"));
            if (failure.Log is { Count: > 0 } log)
            {
                main.Append("<details><summary>log</summary><pre>").Append(Html.Encode(string.Join('\n', log))).Append("</pre></details>");
            }

            main.Append("</td><td>").Append(Html.Time(failure.At)).Append("</td></tr>\n");
        }

        main.Append("</table></section>\n");
    }

    /// <summary>A URL without its user information (a token in a git URL stays off the page).</summary>
    private static string WithoutCredentials(string location) =>
        Uri.TryCreate(location, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0
            ? new UriBuilder(uri) { UserName = "", Password = "" }.Uri.ToString()
            : location;

    private static string Duration(TimeSpan span)
    {
        var (count, unit) = span.TotalSeconds >= 60 && span.TotalSeconds % 60 == 0 ? (span.TotalMinutes, "minute") : (span.TotalSeconds, "second");
        return $"{count.ToString("0", CultureInfo.InvariantCulture)} {unit}{(count == 1 ? "" : "s")}";
    }
}
