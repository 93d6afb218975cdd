// GET and HEAD /v2/<name>/referrers/<digest> (distribution-spec 1.1, "Listing Referrers"):
// the artifacts whose subject is that manifest — here the SBOM of every image, attached by the
// worker to each of its manifests (Docker, OCI and the index) and stored as one OCI index per
// manifest. A digest with no referrers answers an empty index, never 404 (the spec: a
// registry that supports the API MUST NOT answer it 404). `artifactType=<type>` keeps the
// descriptors of that type, and the answer then says `OCI-Filters-Applied: artifactType`.
// Blobs and artifacts are shared by every image, so the name is only checked for grammar.
using System.Text.Json;
using Nixery.Core.Manifests;
using Nixery.Core.Storage;
using Nixery.Functions.Web;

namespace Nixery.Functions.Registry;

public sealed class ReferrersHandler(RegistryStore store)
{
    public const string FiltersAppliedHeader = "OCI-Filters-Applied";

    public async Task HandleAsync(HttpContext context, RegistryPath path)
    {
        var digest = path.DigestReference()!.Value;
        var index = await store.GetReferrersAsync(digest, context.RequestAborted) ?? ReferrersIndex.Of([]);
        var artifactType = context.Request.Query["artifactType"].ToString();
        if (artifactType.Length > 0)
        {
            index = ReferrersIndex.Of([.. index.Manifests.Where(m => m.ArtifactType == artifactType)]);
            context.Response.Headers[FiltersAppliedHeader] = "artifactType";
        }

        await WebResponse.WriteAsync(context, MediaTypes.OciIndex, JsonSerializer.SerializeToUtf8Bytes(index, CoreJson.Default.ReferrersIndex));
    }
}
