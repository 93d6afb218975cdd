// GET and HEAD /v2/<name>/blobs/<digest>. Blobs are shared by every image, so the name is
// only checked for grammar. When the backend can hand out a short-lived URL (Azure SAS) a
// GET is redirected there (307; the storage service then answers Range itself); otherwise
// ("empty means stream it yourself", IStorageBackend.GetRedirectUrlAsync) the blob is served
// from here through the framework's file result (StoredContent: ranges, ETag, 304). HEAD
// always answers here, with digest, length and type.
using Nixery.Core.Errors;
using Nixery.Core.Manifests;
using Nixery.Core.Storage;
using Nixery.Core.Telemetry;

namespace Nixery.Functions.Registry;

public sealed class BlobHandler(RegistryStore store)
{
    public async Task HandleAsync(HttpContext context, RegistryPath path)
    {
        var ct = context.RequestAborted;
        var digest = path.DigestReference()!.Value;
        var props = await store.StatBlobAsync(digest, ct) ?? throw Unknown(digest);
        if (HttpMethods.IsHead(context.Request.Method))
        {
            await StoredContent.ServeAsync(context, StoredContent.LengthOnly(props.Size), MediaTypes.OctetStream, digest, ranges: true, immutable: true);
            return;
        }

        if (await store.GetBlobRedirectUrlAsync(digest, MediaTypes.OctetStream, ct) is { } url)
        {
            context.Response.Headers["Docker-Content-Digest"] = digest.ToString();
            RegistryTelemetry.BlobRedirects.Add(1);
            await Results.Redirect(url.AbsoluteUri, permanent: false, preserveMethod: true).ExecuteAsync(context);
            return;
        }

        var content = await store.OpenBlobAsync(digest, ct) ?? throw Unknown(digest);
        await StoredContent.ServeAsync(context, content, MediaTypes.OctetStream, digest, ranges: true, immutable: true);
    }

    private static RegistryException Unknown(Digest digest) => new(ErrorCode.BlobUnknown, $"blob {digest} is not in the registry");
}
