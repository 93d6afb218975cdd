// The real clients as a user runs them against a plain-HTTP registry on loopback:
// skopeo, podman, umoci and containerd's ctr.
using System.Text.Json;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests;

public static class Clients
{
    public static Task<ProcessResult> SkopeoCopyAsync(string hostPort, string image, string ociDir) =>
        ProcessRunner.RunAsync("skopeo", ["copy", "--src-tls-verify=false", $"docker://{hostPort}/{image}", $"oci:{ociDir}:latest"]);

    public static Task<ProcessResult> PodmanPullAsync(string hostPort, string image, string storageDir) =>
        ProcessRunner.RunAsync("podman", [
            "--root", Path.Combine(storageDir, "root"), "--runroot", Path.Combine(storageDir, "run"), "--storage-driver", "vfs",
            "pull", "--tls-verify=false", $"{hostPort}/{image}"]);

    /// <summary>skopeo copy of one manifest by digest (docker://host/name@sha256:…), kept as it is.</summary>
    public static Task<ProcessResult> SkopeoCopyByDigestAsync(string hostPort, string name, string digest, string ociDir) =>
        ProcessRunner.RunAsync("skopeo", ["copy", "--src-tls-verify=false", $"docker://{hostPort}/{name}@{digest}", $"oci:{ociDir}:latest"]);

    /// <summary>ctr against a containerd on <paramref name="address"/> (see ContainerdDaemon).</summary>
    public static Task<ProcessResult> CtrAsync(string address, params string[] args) =>
        ProcessRunner.RunAsync("ctr", ["--address", address, .. args]);

    /// <summary>The manifest digest skopeo recorded in an OCI layout's index.json.</summary>
    public static string OciManifestDigest(string ociDir)
    {
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(ociDir, "index.json")));
        return index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
    }

    /// <summary>umoci unpack, then what a container runtime provides and a chroot lacks: /dev/null.</summary>
    public static async Task<string> UnpackAsync(string ociDir, string bundle)
    {
        (await ProcessRunner.RunAsync("umoci", ["unpack", "--image", $"{ociDir}:latest", bundle])).EnsureSuccess("umoci unpack");
        var rootfs = Path.Combine(bundle, "rootfs");
        Directory.CreateDirectory(Path.Combine(rootfs, "dev"));
        (await ProcessRunner.RunAsync("mknod", ["-m", "666", Path.Combine(rootfs, "dev", "null"), "c", "1", "3"])).EnsureSuccess("mknod /dev/null");
        return rootfs;
    }

    /// <summary>What the image's config says that a runtime uses, from an OCI layout.</summary>
    public static ImageConfigSummary OciConfig(string ociDir)
    {
        var manifestDigest = OciManifestDigest(ociDir);
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(ociDir, "blobs", "sha256", manifestDigest["sha256:".Length..])));
        var configDigest = manifest.RootElement.GetProperty("config").GetProperty("digest").GetString()!;
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(ociDir, "blobs", "sha256", configDigest["sha256:".Length..])));
        var container = config.RootElement.GetProperty("config");
        return new ImageConfigSummary(
            container.TryGetProperty("User", out var user) ? user.GetString() : null,
            [.. container.GetProperty("Env").EnumerateArray().Select(e => e.GetString()!)],
            config.RootElement.GetProperty("created").GetString()!,
            [.. config.RootElement.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("created_by").GetString()!)],
            manifest.RootElement.GetProperty("layers").GetArrayLength());
    }

    /// <summary>The layer digests of the image skopeo wrote into an OCI layout.</summary>
    public static IReadOnlyList<string> OciLayerDigests(string ociDir)
    {
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(ociDir, "index.json")));
        var manifestDigest = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(ociDir, "blobs", "sha256", manifestDigest["sha256:".Length..])));
        return [.. manifest.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!)];
    }

    /// <summary>The store paths (nix/store/&lt;hash&gt;-&lt;name&gt;) a layer blob holds, via real tar.</summary>
    public static async Task<IReadOnlySet<string>> StorePathsInLayerAsync(string ociDir, string digest)
    {
        var blob = Path.Combine(ociDir, "blobs", "sha256", digest["sha256:".Length..]);
        var listing = (await ProcessRunner.RunAsync("tar", ["-tzf", blob])).EnsureSuccess("tar -tzf").Stdout;
        return listing.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.TrimStart('.', '/').Split('/'))
            .Where(parts => parts.Length >= 3 && parts[0] == "nix" && parts[1] == "store" && parts[2].Length > 0)
            .Select(parts => $"nix/store/{parts[2]}")
            .ToHashSet(StringComparer.Ordinal);
    }
}

/// <param name="History">Each history entry's created_by.</param>
/// <param name="Layers">How many layers the manifest lists.</param>
public sealed record ImageConfigSummary(string? User, IReadOnlyList<string> Env, string Created, IReadOnlyList<string> History, int Layers);
