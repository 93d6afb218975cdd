// GET and HEAD /images/<name>[?tag=<tag>]: one image's page — the `docker pull` line and the
// picture of its layers (LayerPicture), with the same facts as a table. The name and tag are
// resolved exactly as a manifest request resolves them (SourceCatalog, ImageRequest,
// ImageKeys), so the page shows the image a pull of that reference gets now. An image not
// built yet is a 404 page that says so and shows its build's state, if one is known; a name or
// tag that is not a valid reference is the registry's 400 NAME_INVALID / TAG_INVALID.
//
// The layers are the default manifest's (Docker schema 2; the OCI one has the same layers), the
// paths they hold the config's history, which has one entry per layer in layer order
// (ImageConfigWriter), and the sharing counts BuiltImages' scan of the built images.
using System.Globalization;
using System.Text;
using Nixery.Core.Builds;
using Nixery.Core.Errors;
using Nixery.Core.Manifests;
using Nixery.Core.Names;
using Nixery.Core.Sources;
using Nixery.Core.Storage;

namespace Nixery.Functions.Web;

public sealed class ImagePageHandler(SourceCatalog sources, RegistryStore store, BuildLedger ledger, BuiltImages images)
{
    public const string Prefix = "/images/";

    public async Task HandleAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var path = context.Request.Path.Value ?? "";
        var name = path.StartsWith(Prefix, StringComparison.Ordinal) ? path[Prefix.Length..].Trim('/') : "";
        var tag = context.Request.Query["tag"].ToString();
        tag = tag.Length == 0 ? SourceCatalog.LatestTag : tag;
        if (!ReferenceGrammar.IsValidName(name))
        {
            throw new RegistryException(
                ErrorCode.NameInvalid,
                "the image name after /images/ is not a repository name: lower-case package names separated by '/', e.g. /images/shell/git");
        }

        if (!ReferenceGrammar.IsValidTag(tag))
        {
            throw new RegistryException(ErrorCode.TagInvalid, "the tag parameter is not a tag: letters, digits, '_', '.', '-', at most 128, e.g. ?tag=latest");
        }

        var host = context.Request.Host.HasValue ? context.Request.Host.Value! : "<this host>";
        var pull = $"docker pull {host}/{name}{(tag == SourceCatalog.LatestTag ? "" : ":" + tag)}";
        var (selection, resolved) = await sources.ResolveAsync(name, tag, ct);
        var request = ImageRequest.FromName(selection.Packages);
        var key = ImageKeys.For(request, resolved);
        var main = new StringBuilder();
        main.Append("<h1>").Append(Html.Encode(name)).Append("</h1>\n<pre id=\"pull\">").Append(Html.Encode(pull)).Append("</pre>\n")
            .Append("<p>Package source <code>").Append(Html.Encode(selection.Source.Definition.Name)).Append("</code> at revision <code>")
            .Append(Html.Encode(resolved.Revision)).Append("</code>; image key <code>").Append(Html.Encode(key)).Append("</code>.</p>\n");

        var record = await store.GetImageAsync(key, ct);
        var manifest = record is null ? null : await images.ManifestAsync(record, ct);
        if (record is null || manifest is null)
        {
            var status = await ledger.GetAsync(key, ct);
            main.Append("<p id=\"not-built\">This image has not been built yet")
                .Append(status is null ? "" : $" (its build is {Html.Encode(status.State.ToString().ToLowerInvariant())}{(status.State == BuildState.Failed && status.Reason is not null ? ": " + Html.Encode(status.Reason) : "")})")
                .Append(". Pull it to build it; <a href=\"/\">the builds in progress</a> show how far it is.</p>\n");
            await WebResponse.WriteHtmlAsync(context, Html.Page($"{name} — Nixery on Azure", main.ToString()), status: StatusCodes.Status404NotFound);
            return;
        }

        var config = Digest.TryParse(manifest.Config.Digest, out var configDigest)
            ? await images.ReadJsonBlobAsync(configDigest.Value, CoreJson.Default.ImageConfig, ct)
            : null;
        var others = await images.OthersHoldingAsync(key, ct);
        var bars = manifest.Layers.Select((layer, i) => new LayerBar(
            i,
            layer.Digest,
            layer.Size,
            Math.Max(0, others(layer.Digest)),
            config is not null && i < config.History.Count ? Holds(config.History[i]) : "")).ToList();

        main.Append("<section aria-labelledby=\"picture\"><h2 id=\"picture\">Layers</h2>\n")
            .Append("<p>").Append(bars.Count.ToString(CultureInfo.InvariantCulture)).Append(" layers, ").Append(Html.Encode(Html.Bytes(bars.Sum(b => b.Size))))
            .Append(" compressed. A layer is shared when other built images hold the same layer (the same digest): pulling them again costs nothing.</p>\n")
            .Append("<figure>").Append(LayerPicture.Svg(name, bars)).Append("<figcaption class=\"muted\">Bar length: compressed size. Blue: shared with other images; grey: this image only.</figcaption></figure>\n")
            .Append("<table>\n<caption>The layers, in order</caption>\n<tr><th scope=\"col\">#</th><th scope=\"col\">size</th><th scope=\"col\">shared with</th><th scope=\"col\">holds</th><th scope=\"col\">digest</th></tr>\n");
        foreach (var bar in bars)
        {
            main.Append("<tr><td>").Append((bar.Index + 1).ToString(CultureInfo.InvariantCulture)).Append("</td><td>").Append(Html.Encode(Html.Bytes(bar.Size)))
                .Append("</td><td>").Append(bar.SharedWith.ToString(CultureInfo.InvariantCulture)).Append(bar.SharedWith == 1 ? " other image" : " other images")
                .Append("</td><td>").Append(Html.Encode(bar.Paths)).Append("</td><td><code title=\"").Append(Html.Encode(bar.Digest)).Append("\">").Append(Html.Encode(ShortDigest(bar.Digest))).Append("</code></td></tr>\n");
        }

        main.Append("</table></section>\n");
        await WebResponse.WriteHtmlAsync(context, Html.Page($"{name} — Nixery on Azure", main.ToString()));
    }

    /// <summary>"sha256:" and the first 12 hex digits, as `docker images` shortens IDs; the
    /// whole digest is the element's title.</summary>
    private static string ShortDigest(string digest)
    {
        var colon = digest.IndexOf(':', StringComparison.Ordinal);
        return digest.Length > colon + 1 + 12 ? digest[..(colon + 1 + 12)] : digest;
    }

    /// <summary>What a layer holds, from its history entry ("nixery: store paths a, b and 3 more").</summary>
    private static string Holds(HistoryEntry entry)
    {
        const string Ours = "nixery: ";
        return entry.CreatedBy.StartsWith(Ours, StringComparison.Ordinal) ? entry.CreatedBy[Ours.Length..] : entry.CreatedBy;
    }
}
