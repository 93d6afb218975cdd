// The check of a conditional request answered 304 by the framework's file result: with the
// ETag the registry sent (the quoted digest), GET and HEAD are Not Modified, without a body,
// and keep the ETag and Docker-Content-Digest.
using System.Net;
using Nixery.Core.Manifests;

namespace Nixery.Functions.Tests;

internal static class NotModifiedAssert
{
    public static async Task IfNoneMatchWithItsETagAsync(HttpClient client, string path, Digest digest, string? accept = null)
    {
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Head })
        {
            using var request = new HttpRequestMessage(method, path);
            request.Headers.TryAddWithoutValidation("If-None-Match", $"\"{digest}\"");
            if (accept is not null)
            {
                request.Headers.TryAddWithoutValidation("Accept", accept);
            }

            using var response = await client.SendAsync(request);

            Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
            Assert.Equal($"\"{digest}\"", response.Headers.ETag?.Tag);
            Assert.Equal([digest.ToString()], response.Headers.GetValues("Docker-Content-Digest"));
            Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        }
    }
}
