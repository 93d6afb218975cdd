// GET and HEAD /v2/<name>/manifests/<reference>. By tag: the name is the package list, so
// the image is looked up by its key and built on a miss (BuildCoordinator). By digest: the
// manifest blob itself, whatever name it is asked under, as long as it is a manifest.
// The stored bytes are served as they are, with their digest and exact media type.
using System.Text.Json;
using Nixery.Core.Errors;
using Nixery.Core.Manifests;
using Nixery.Core.Names;
using Nixery.Core.Storage;
using Nixery.Functions.Builds;

namespace Nixery.Functions.Registry;

public sealed class ManifestHandler(RegistryStore store, BuildCoordinator builds, MetaPackages meta)
{
    /// <summary>Manifests are small; a larger blob asked for as a manifest is not one of ours.</summary>
    private const long MaxManifestSize = 4 * 1024 * 1024;

    public async Task HandleAsync(HttpContext context, RegistryPath path)
    {
        var ct = context.RequestAborted;
        var digest = path.DigestReference();
        string mediaType;
        if (digest is null)
        {
            var image = ImageRequest.FromName(path.Name, meta);
            var record = await builds.GetOrBuildAsync(image, ct);
            digest = Digest.TryParse(record.Digest, out var d) ? d : throw new InvalidDataException($"image record holds a bad digest {record.Digest}");
            mediaType = record.MediaType;
        }
        else
        {
            mediaType = await ManifestMediaTypeAsync(digest.Value, path, ct);
        }

        await using var content = await store.OpenBlobAsync(digest.Value, ct)
            ?? throw new RegistryException(ErrorCode.ManifestUnknown, $"manifest {digest} of {path.Name} is not in the registry");
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = mediaType;
        response.ContentLength = content.Length;
        response.Headers["Docker-Content-Digest"] = digest.Value.ToString();
        response.Headers.ETag = $"\"{digest.Value}\"";
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await content.CopyToAsync(response.Body, ct);
        }
    }

    private async Task<string> ManifestMediaTypeAsync(Digest digest, RegistryPath path, CancellationToken ct)
    {
        var unknown = new RegistryException(ErrorCode.ManifestUnknown, $"manifest {digest} of {path.Name} is not in the registry");
        var props = await store.StatBlobAsync(digest, ct);
        if (props is null || props.Size > MaxManifestSize)
        {
            throw unknown;
        }

        await using var stream = await store.OpenBlobAsync(digest, ct) ?? throw unknown;
        try
        {
            using var document = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("mediaType", out var type)
                && type.ValueKind == JsonValueKind.String
                && type.GetString() is MediaTypes.DockerManifest or MediaTypes.OciManifest or MediaTypes.OciIndex)
            {
                return type.GetString()!;
            }
        }
        catch (JsonException)
        {
            // A layer or config blob asked for as a manifest.
        }

        throw unknown;
    }
}
