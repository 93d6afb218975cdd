// GET and HEAD /v2/<name>/tags/list: the tags an image name answers to, which are those of
// its package source (SourceCatalog.ListTagsAsync says which, per source kind), paginated
// with `n` and `last` (Pagination). Every tag listed can be pulled, but none is built until
// it is: listing is cheap and builds nothing. The one name that is no repository here is one
// whose packages a build already found missing: 404 NAME_UNKNOWN naming them, as the
// reference registry answers tags/list of a repository it does not hold.
using System.Text.Json;
using System.Text.Json.Serialization;
using Nixery.Core.Builds;
using Nixery.Core.Errors;
using Nixery.Core.Names;
using Nixery.Core.Sources;
using Nixery.Core.Storage;
using Nixery.Functions.Web;

namespace Nixery.Functions.Registry;

public sealed record TagList(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("tags")] IReadOnlyList<string> Tags);

public sealed record RepositoryList([property: JsonPropertyName("repositories")] IReadOnlyList<string> Repositories);

[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(TagList))]
[JsonSerializable(typeof(RepositoryList))]
internal sealed partial class ListingJson : JsonSerializerContext;

public sealed class TagsHandler(SourceCatalog sources, BuildLedger ledger)
{
    public async Task HandleAsync(HttpContext context, RegistryPath path)
    {
        var ct = context.RequestAborted;
        var (_, tags) = await sources.ListTagsAsync(path.Name, ct);
        await ThrowIfKnownMissingAsync(path.Name, ct);
        var page = Pagination.Of(tags, context.Request.Query, $"{RegistryApi.Prefix}/{path.Name}/tags/list");
        Pagination.WriteLink(context.Response, page);
        await WebResponse.WriteAsync(context, "application/json", JsonSerializer.SerializeToUtf8Bytes(new TagList(path.Name, page.Items), ListingJson.Default.TagList));
    }

    /// <summary>NAME_UNKNOWN when the name's latest image failed for missing packages.</summary>
    private async Task ThrowIfKnownMissingAsync(string name, CancellationToken ct)
    {
        var (selection, resolved) = await sources.ResolveAsync(name, SourceCatalog.LatestTag, ct);
        var key = ImageKeys.For(ImageRequest.FromName(selection.Packages), resolved);
        if (await ledger.GetAsync(key, ct) is { State: BuildState.Failed, Missing: { Count: > 0 } missing })
        {
            throw new RegistryException(
                ErrorCode.NameUnknown,
                $"repository {name} is not known here: packages not found: {string.Join(", ", missing)}",
                detail: new Dictionary<string, IReadOnlyList<string>> { ["missing"] = missing });
        }
    }
}

/// <summary>GET and HEAD /v2/_catalog: the names of the images this registry has built (each
/// recorded by the worker, by its sorted package list), paginated as tags/list is. Any other
/// valid name can be pulled too; the catalog only says which were.</summary>
public sealed class CatalogHandler(RegistryStore store)
{
    public async Task HandleAsync(HttpContext context)
    {
        var names = await store.ListCatalogAsync(context.RequestAborted);
        var page = Pagination.Of(names, context.Request.Query, $"{RegistryApi.Prefix}/{RegistryPath.CatalogPath}");
        Pagination.WriteLink(context.Response, page);
        await WebResponse.WriteAsync(context, "application/json", JsonSerializer.SerializeToUtf8Bytes(new RepositoryList(page.Items), ListingJson.Default.RepositoryList));
    }
}
