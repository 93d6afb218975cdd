// Serves stored, digest-addressed bytes (blobs and manifests) through ASP.NET Core's own file
// result (STYLE.md §13), as the reference registry leans on Go's http.ServeContent: Range
// (one range; several are answered with the whole body), ETag, If-None-Match → 304, If-Match
// → 412, If-Range, Accept-Ranges, Content-Length and HEAD are the framework's
// (dotnet/aspnetcore src/Shared/ResultsHelpers/FileResultHelper.cs SetHeadersAndLog and
// src/Shared/RangeHelper/RangeHelper.cs, behind Results.Stream's FileStreamHttpResult). The
// ETag is the quoted digest: the bytes can never change under it.
//
// What is ours, and why:
//   - the framework answers 416 and 412 with no body, and every 4xx here carries the registry
//     error body (ErrorCode, RegistryError.cs). The framework leaves those answers unstarted,
//     so after it ran the body is added (keeping its status and Content-Range: bytes */size);
//   - the framework serves the whole body for a Range it cannot parse and applies any parsed
//     unit as bytes (RangeHelper.ParseRange checks neither). RFC 9110 §14.2 lets a server
//     reject an invalid ranges-specifier, and Go's http.ServeContent (the reference registry)
//     answers it 416, so a single range that is not a valid "bytes=" range is refused before
//     the framework sees it — also when a conditional header would have answered 304 first,
//     which no client asks for.
//   - a HEAD of a blob needs only its length: the framework's result reads Length from the
//     stream and never the bytes when there is no body to send, so it gets a stand-in
//     (LengthOnly) instead of an opened blob, which on Azure would download up to 4 MiB.
//   - bytes named by their digest never change, so their successful answers (200, 206, 304)
//     may be cached for a year: Cache-Control max-age=31536000, the value the reference
//     registry sends for blobs (distribution registry/storage/blobserver.go,
//     blobCacheControlMaxAge). Errors and a manifest asked for by tag get none.
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Nixery.Core.Errors;
using Nixery.Core.Manifests;

namespace Nixery.Functions.Registry;

public static class StoredContent
{
    /// <summary>A year, in seconds, as the reference registry caches blobs.</summary>
    public const string ImmutableCacheControl = "max-age=31536000";

    /// <summary>Answers the request with <paramref name="content"/> (seekable; disposed here), its digest
    /// as Docker-Content-Digest and ETag, and the framework's conditional and range handling.</summary>
    /// <param name="ranges">Whether Range requests are honoured (blobs; manifests are sent whole, as distribution does).</param>
    /// <param name="immutable">Whether the request named the bytes by digest (a blob, a manifest by digest), so a
    /// successful answer may be cached for good.</param>
    public static async Task ServeAsync(HttpContext context, Stream content, string contentType, Digest digest, bool ranges, bool immutable)
    {
        await using (content)
        {
            var size = content.Length;
            var response = context.Response;
            response.Headers["Docker-Content-Digest"] = digest.ToString();
            if (immutable)
            {
                response.OnStarting(() =>
                {
                    if (response.StatusCode is StatusCodes.Status200OK or StatusCodes.Status206PartialContent or StatusCodes.Status304NotModified)
                    {
                        response.Headers.CacheControl = ImmutableCacheControl;
                    }

                    return Task.CompletedTask;
                });
            }

            if (ranges && MalformedRange(context.Request.Headers.Range))
            {
                throw RangeInvalid(context, size);
            }

            var result = Results.Stream(content, contentType, fileDownloadName: null, lastModified: null, new EntityTagHeaderValue($"\"{digest}\""), ranges);
            await result.ExecuteAsync(context);
            if (response.HasStarted)
            {
                return;
            }

            if (response.StatusCode == StatusCodes.Status416RangeNotSatisfiable)
            {
                await ErrorWriter.WriteAsync(context, RangeInvalid(context, size));
            }
            else if (response.StatusCode == StatusCodes.Status412PreconditionFailed)
            {
                await ErrorWriter.WriteAsync(context, new RegistryException(
                    ErrorCode.PreconditionFailed, $"{digest} does not match the request's If-Match or If-Unmodified-Since"));
            }
        }
    }

    /// <summary>A stand-in for bytes that will not be sent (HEAD): only its length is read.</summary>
    public static Stream LengthOnly(long length) => new LengthOnlyStream(length);

    /// <summary>One range (a list is the framework's to ignore) that is not a valid "bytes=" range.</summary>
    private static bool MalformedRange(StringValues header)
    {
        if (StringValues.IsNullOrEmpty(header) || header.Count > 1 || header[0]!.Contains(',', StringComparison.Ordinal))
        {
            return false;
        }

        return !RangeHeaderValue.TryParse(header[0], out var parsed)
            || !string.Equals(parsed.Unit.Value, "bytes", StringComparison.OrdinalIgnoreCase);
    }

    private static RegistryException RangeInvalid(HttpContext context, long size)
    {
        var header = context.Request.Headers.Range.ToString();
        return new RegistryException(
            ErrorCode.RangeInvalid,
            $"range '{(header.Length <= 100 ? header : header[..100])}' cannot be satisfied for a blob of {size} bytes",
            new Dictionary<string, string> { ["Content-Range"] = $"bytes */{size}" });
    }

    private sealed class LengthOnlyStream(long length) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get; set; }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("a HEAD answer sends no bytes");

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("a HEAD answer sends no bytes");

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
