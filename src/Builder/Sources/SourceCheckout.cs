// The worker's side of package sources: a local folder holding the package set at exactly
// the revision the request resolved (the revision is in the image key, so building anything
// else would store the wrong image under it). One folder per revision under
// NIXERY_SOURCE_CACHE, made in a temporary folder and renamed into place, so a half-made
// checkout is never used and two builds of one revision share it.
//
//   kind     fetch                                                     check
//   path     the folder itself                                         its hash is still the revision
//   git      mirror <cache>/git/<hash of url>.git; fetch the commit;   the commit exists
//            `git archive <commit>` unpacked
//   channel  download the tarball; `tar -xf` (gzip, xz, bzip2);         sha256 revisions: the bytes hash to it
//            a single top-level folder (nixpkgs-<commit>/) is the set
// git and tar run through CliWrap (GitCli); cancelling a fetch kills the command.
using System.Collections.Concurrent;
using System.Formats.Tar;
using CliWrap;
using CliWrap.Buffered;
using Microsoft.Extensions.Logging;
using Nixery.Core.Queue;
using Nixery.Core.Sources;
using Nixery.Core.Storage;
using Nixery.Core.Manifests;

namespace Nixery.Builder.Sources;

public sealed record SourceCheckoutOptions(string CachePath);

public sealed class SourceCheckout(SourceCheckoutOptions options, HttpClient http, ILogger<SourceCheckout> logger)
{
    /// <summary>How long one git fetch or tarball download may take.</summary>
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    private string Cache => Path.GetFullPath(options.CachePath);

    /// <summary>The package set folder for <paramref name="source"/>; throws SourceUnavailableException with the reason.</summary>
    public async Task<string> CheckOutAsync(PackageSource source, CancellationToken ct)
    {
        switch (source.Kind)
        {
            case SourceKinds.Path:
                var now = PathSource.HashTree(source.Location);
                return now == source.Revision
                    ? source.Location
                    : throw new SourceUnavailableException($"the package set in {source.Location} changed after the request (revision {source.Revision}, now {now}); pull again");
            case SourceKinds.Git:
            case SourceKinds.Channel:
                var folder = Path.Combine(Cache, "checkouts", $"{source.Kind}-{Digest.Sha256Hex(source.Location + "\n" + source.Revision)[..32]}");
                if (Directory.Exists(folder))
                {
                    return folder;
                }

                var gate = _locks.GetOrAdd(folder, _ => new SemaphoreSlim(1, 1));
                await gate.WaitAsync(ct);
                try
                {
                    if (!Directory.Exists(folder))
                    {
                        await MakeAsync(source, folder, ct);
                    }

                    return folder;
                }
                finally
                {
                    gate.Release();
                }

            default:
                throw new SourceUnavailableException($"package source kind '{source.Kind}' is unknown to this worker");
        }
    }

    private async Task MakeAsync(PackageSource source, string folder, CancellationToken ct)
    {
        var temporary = Directory.CreateDirectory(Path.Combine(Cache, "tmp", Guid.NewGuid().ToString("N"))).FullName;
        try
        {
            logger.LogInformation("fetching package source {Kind} {Location} at {Revision}", source.Kind, source.Location, source.Revision);
            var unpacked = source.Kind == SourceKinds.Git
                ? await CheckOutGitAsync(source, temporary, ct)
                : await UnpackTarballAsync(source, temporary, ct);
            Directory.CreateDirectory(Path.GetDirectoryName(folder)!);
            try
            {
                Directory.Move(unpacked, folder);
            }
            catch (IOException) when (Directory.Exists(folder))
            {
                // Another worker process on this machine made the same checkout first.
            }

            logger.LogInformation("fetched package source {Kind} {Location} at {Revision} into {Folder}", source.Kind, source.Location, source.Revision, folder);
        }
        finally
        {
            if (Directory.Exists(temporary))
            {
                Directory.Delete(temporary, recursive: true);
            }
        }
    }

    private async Task<string> CheckOutGitAsync(PackageSource source, string temporary, CancellationToken ct)
    {
        var mirror = Path.Combine(Cache, "git", Digest.Sha256Hex(source.Location)[..32] + ".git");
        var gate = _locks.GetOrAdd(mirror, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            if (!Directory.Exists(mirror))
            {
                await GitCli.RunAsync(["init", "--quiet", "--bare", mirror], null, FetchTimeout, ct);
            }

            if (!await HasCommitAsync(mirror, source.Revision, ct))
            {
                // Servers may refuse a bare commit id (uploadpack.allowAnySHA1InWant); every
                // branch and tag is the fallback that always works.
                try
                {
                    await GitCli.RunAsync(["fetch", "--quiet", "--", source.Location, source.Revision], mirror, FetchTimeout, ct);
                }
                catch (SourceUnavailableException)
                {
                    await GitCli.RunAsync(["fetch", "--quiet", "--force", "--", source.Location, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], mirror, FetchTimeout, ct);
                }

                if (!await HasCommitAsync(mirror, source.Revision, ct))
                {
                    throw new SourceUnavailableException($"commit {source.Revision} is not in {source.Location}");
                }
            }

            // git archive writes tar unless told otherwise; it is unpacked as it streams.
            var target = Directory.CreateDirectory(Path.Combine(temporary, "set")).FullName;
            var unpack = PipeTarget.Create((tar, token) => TarFile.ExtractToDirectoryAsync(tar, target, overwriteFiles: false, token));
            await GitCli.RunAsync(["archive", source.Revision], mirror, unpack, FetchTimeout, ct);
            return target;
        }
        finally
        {
            gate.Release();
        }
    }

    private static async Task<bool> HasCommitAsync(string mirror, string commit, CancellationToken ct)
    {
        try
        {
            await GitCli.RunAsync(["cat-file", "-e", commit + "^{commit}"], mirror, FetchTimeout, ct);
            return true;
        }
        catch (SourceUnavailableException)
        {
            return false;
        }
    }

    private async Task<string> UnpackTarballAsync(PackageSource source, string temporary, CancellationToken ct)
    {
        var file = Path.Combine(temporary, "source.tar");
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            deadline.CancelAfter(FetchTimeout);
            try
            {
                await using var input = await ChannelSource.OpenAsync(http, source.Location, deadline.Token);
                await using var output = File.Create(file);
                await input.CopyToAsync(output, deadline.Token);
            }
            catch (Exception e) when (e is IOException or HttpRequestException or UnauthorizedAccessException || (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
                throw new SourceUnavailableException($"{source.Location} could not be downloaded: {e.Message}", e);
            }
        }

        if (source.Revision.StartsWith("sha256-", StringComparison.Ordinal))
        {
            await using var read = File.OpenRead(file);
            var hash = await ChannelSource.RevisionOfAsync(read, ct);
            if (hash != source.Revision)
            {
                throw new SourceUnavailableException($"{source.Location} changed after the request (revision {source.Revision}, now {hash}); pull again");
            }
        }

        var target = Directory.CreateDirectory(Path.Combine(temporary, "set")).FullName;
        await RunTarAsync(file, target, ct);
        // nixpkgs tarballs hold one folder, nixpkgs-<commit>/; a set packed flat is used as it is.
        var entries = Directory.GetFileSystemEntries(target);
        return entries.Length == 1 && Directory.Exists(entries[0]) && !File.Exists(Path.Combine(target, "default.nix")) ? entries[0] : target;
    }

    private static async Task RunTarAsync(string file, string target, CancellationToken ct)
    {
        var tar = await Cli.Wrap("tar")
            .WithArguments(["-xf", file, "-C", target, "--no-same-owner"])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(ct);
        if (tar.ExitCode != 0)
        {
            throw new SourceUnavailableException($"the tarball could not be unpacked: {GitCli.FirstLines(tar.StandardError)}");
        }
    }
}
