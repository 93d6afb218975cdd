// GET and HEAD /v2/<name>/blobs/<digest>. Blobs are shared by every image, so the name is
// only checked for grammar. When the backend can hand out a short-lived URL (Azure SAS) a
// GET is redirected there (307); otherwise the blob is streamed from here with single-range
// support. HEAD always answers here, with digest, length and type.
using Nixery.Core.Errors;
using Nixery.Core.Manifests;
using Nixery.Core.Storage;

namespace Nixery.Functions.Registry;

public sealed class BlobHandler(RegistryStore store)
{
    public async Task HandleAsync(HttpContext context, RegistryPath path)
    {
        var ct = context.RequestAborted;
        var digest = path.DigestReference()!.Value;
        var props = await store.StatBlobAsync(digest, ct)
            ?? throw new RegistryException(ErrorCode.BlobUnknown, $"blob {digest} is not in the registry");
        var response = context.Response;
        response.Headers["Docker-Content-Digest"] = digest.ToString();
        response.Headers.ETag = $"\"{digest}\"";
        response.Headers.AcceptRanges = "bytes";
        response.ContentType = MediaTypes.OctetStream;

        var head = HttpMethods.IsHead(context.Request.Method);
        if (!head && await store.GetBlobRedirectUrlAsync(digest, MediaTypes.OctetStream, ct) is { } url)
        {
            response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            response.Headers.Location = url.AbsoluteUri;
            return;
        }

        var range = ByteRange.Parse(context.Request.Headers.Range, props.Size);
        if (range is { } r)
        {
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = r.ContentRange(props.Size);
            response.ContentLength = r.Length;
        }
        else
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentLength = props.Size;
        }

        if (head)
        {
            return;
        }

        await using var content = await store.OpenBlobAsync(digest, ct)
            ?? throw new RegistryException(ErrorCode.BlobUnknown, $"blob {digest} is not in the registry");
        if (range is { } part)
        {
            content.Seek(part.Start, SeekOrigin.Begin);
            await CopyBytesAsync(content, response.Body, part.Length, ct);
        }
        else
        {
            await content.CopyToAsync(response.Body, ct);
        }
    }

    private static async Task CopyBytesAsync(Stream source, Stream target, long count, CancellationToken ct)
    {
        var buffer = new byte[81920];
        while (count > 0)
        {
            var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), ct);
            if (read == 0)
            {
                throw new EndOfStreamException("blob ended before the requested range");
            }

            await target.WriteAsync(buffer.AsMemory(0, read), ct);
            count -= read;
        }
    }
}
