// The filesystem backend: the embedded default, one folder (STORAGE_PATH) on one machine.
// Atomicity comes from rename(2): every write lands in staging/ first and is renamed into
// place, so a reader sees the old file or the new one. Create-if-absent needs no lock: the
// staged file is moved without overwriting, which .NET does with link(2) on Unix, and link
// fails with EEXIST if the target exists, atomically (link(2)); so no empty lock file is left
// beside every blob and catalog entry (issue 13). Replace-if-ETag and delete-if-ETag take an
// exclusive lock file beside the record (<record>.lock, for leases and statuses only) so
// that several processes sharing the folder agree; .NET maps FileShare.None to
// flock(LOCK_EX) on Unix. A create racing them is safe: it succeeds only where no file is.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Nixery.Core.Storage;

public sealed class FileSystemStorage : IStorageBackend
{
    private readonly string _root;

    public FileSystemStorage(string root)
    {
        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(Path.Combine(_root, StorageLayout.StagingPrefix));
    }

    public string Name => "filesystem";

    public string Root => _root;

    public string Location => _root;

    /// <summary>The folder can be written to: staging/ exists (made again if it went away).</summary>
    public Task ProbeAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.Combine(_root, StorageLayout.StagingPrefix));
        return Task.CompletedTask;
    }

    /// <summary>An I/O error of the disk or mount (EIO, ENOSPC, a network file system gone) is
    /// an outage; a missing file is an answer, and never escapes this class as an error.</summary>
    public bool IsOutage(Exception fault) =>
        fault is IOException and not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException);

    public Task<BlobProperties?> StatAsync(string path, CancellationToken cancellationToken)
    {
        var info = new FileInfo(Resolve(path));
        return Task.FromResult(info.Exists ? new BlobProperties(info.Length, null, ETagOf(info)) : null);
    }

    public Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            Stream stream = new FileStream(Resolve(path), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 81920, useAsync: true);
            return Task.FromResult<Stream?>(stream);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public async Task WriteAsync(string path, Stream content, string? contentType, CancellationToken cancellationToken)
    {
        await using var upload = await BeginStagedUploadAsync(cancellationToken);
        await content.CopyToAsync(upload.Content, cancellationToken);
        await ((Upload)upload).MoveIntoPlaceAsync(Resolve(path), overwrite: true);
    }

    public async Task<bool> TryCreateAsync(string path, ReadOnlyMemory<byte> content, string? contentType, CancellationToken cancellationToken)
    {
        var target = Resolve(path);
        if (File.Exists(target))
        {
            return false;
        }

        await using var upload = (Upload)await BeginStagedUploadAsync(cancellationToken);
        await upload.Content.WriteAsync(content, cancellationToken);
        try
        {
            await upload.LinkIntoPlaceAsync(target);
            return true;
        }
        catch (IOException) when (File.Exists(target))
        {
            // Another writer created it first; the staged copy is deleted on dispose.
            return false;
        }
    }

    /// <summary>The ETag of a small record is a hash of its bytes, so the ETag of what this call
    /// wrote is known without reading it back (ETagOf).</summary>
    public async Task<string?> TryCreateVersionedAsync(string path, ReadOnlyMemory<byte> content, string? contentType, CancellationToken cancellationToken) =>
        await TryCreateAsync(path, content, contentType, cancellationToken) ? ETagOfWritten(path, content) : null;

    public async Task<string?> TryReplaceVersionedAsync(string path, ReadOnlyMemory<byte> content, string expectedETag, string? contentType, CancellationToken cancellationToken) =>
        await TryReplaceAsync(path, content, expectedETag, contentType, cancellationToken) ? ETagOfWritten(path, content) : null;

    public async Task<bool> TryReplaceAsync(string path, ReadOnlyMemory<byte> content, string expectedETag, string? contentType, CancellationToken cancellationToken)
    {
        var target = Resolve(path);
        using var guard = await LockAsync(target, cancellationToken);
        var info = new FileInfo(target);
        if (!info.Exists || ETagOf(info) != expectedETag)
        {
            return false;
        }

        await WriteAsync(path, new MemoryStream(content.ToArray()), contentType, cancellationToken);
        return true;
    }

    public Task<IStagedUpload> BeginStagedUploadAsync(CancellationToken cancellationToken)
    {
        var staging = Resolve(StorageLayout.Staging(Guid.NewGuid().ToString("N")));
        return Task.FromResult<IStagedUpload>(new Upload(this, staging));
    }

    public Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            File.Delete(Resolve(path));
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing there: deleting is done.
        }

        return Task.CompletedTask;
    }

    public async Task<bool> TryDeleteAsync(string path, string expectedETag, CancellationToken cancellationToken)
    {
        var target = Resolve(path);
        using var guard = await LockAsync(target, cancellationToken);
        var info = new FileInfo(target);
        if (!info.Exists || ETagOf(info) != expectedETag)
        {
            return false;
        }

        info.Delete();
        return true;
    }

    public async IAsyncEnumerable<(string Path, DateTimeOffset Modified)> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Prefixes are folder-like here ("staging/", "images/"); list the folder part and
        // filter the rest, sorted so that every backend lists in the same order.
        var slash = prefix.LastIndexOf('/');
        var folder = Resolve(slash < 0 ? "" : prefix[..slash]);
        if (!Directory.Exists(folder))
        {
            yield break;
        }

        var found = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".lock", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(_root, f).Replace('\\', '/'))
            .Where(p => p.StartsWith(prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        foreach (var path in found)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return (path, File.GetLastWriteTimeUtc(Resolve(path)));
        }

        await Task.CompletedTask;
    }

    public Task<Uri?> GetRedirectUrlAsync(string path, string contentType, CancellationToken cancellationToken) =>
        Task.FromResult<Uri?>(null);

    private string Resolve(string path)
    {
        // Paths come from StorageLayout, never from a request, but refuse escapes anyway.
        var full = Path.GetFullPath(Path.Combine(_root, path));
        if (full != _root && !full.StartsWith(_root + "/", StringComparison.Ordinal))
        {
            throw new ArgumentException($"storage path escapes the root: {path}", nameof(path));
        }

        return full;
    }

    /// <summary>Small objects (the records that conditional writes guard) are tagged by their
    /// content, so two writes within one clock tick still differ; large immutable blobs by
    /// time and length, so a stat never reads a layer.</summary>
    private static string ETagOf(FileInfo info) => info.Length <= ContentETagLimit
        ? ContentETag(File.ReadAllBytes(info.FullName))
        : $"\"{info.LastWriteTimeUtc.Ticks:x}-{info.Length:x}\"";

    private static string ContentETag(ReadOnlySpan<byte> content) => $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..32]}\"";

    /// <summary>The ETag of the bytes this process just wrote at <paramref name="path"/>: from the
    /// bytes when small, else from the file (its time is only known once written).</summary>
    private string ETagOfWritten(string path, ReadOnlyMemory<byte> content) =>
        content.Length <= ContentETagLimit ? ContentETag(content.Span) : ETagOf(new FileInfo(Resolve(path)));

    private const int ContentETagLimit = 64 * 1024;

    private static async Task<IDisposable> LockAsync(string target, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var lockPath = target + ".lock";
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                // Held by another process for the few microseconds of a small write.
                await Task.Delay(5, cancellationToken);
            }
        }
    }

    private const int EExist = 17;

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link(string existingPath, string newPath);

    private sealed class Upload(FileSystemStorage owner, string stagingPath) : IStagedUpload
    {
        private readonly FileStream _stream = new(stagingPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
        private bool _moved;

        public Stream Content => _stream;

        public Task CommitAsync(string finalPath, string? contentType, CancellationToken cancellationToken) =>
            MoveIntoPlaceAsync(owner.Resolve(finalPath), overwrite: true);

        /// <summary>Puts the upload at <paramref name="target"/> only if nothing is there, atomically
        /// across processes; IOException if something is. Not File.Move(overwrite: false): on Unix
        /// .NET checks that the target is absent and then renames, so two creators racing both
        /// "win", the second replacing the first (seen: 3 of 10 racing claims of one status).
        /// link(2) fails with EEXIST instead, and the content is whole the moment it appears.</summary>
        public async Task LinkIntoPlaceAsync(string target)
        {
            if (OperatingSystem.IsWindows())
            {
                // MoveFileEx without MOVEFILE_REPLACE_EXISTING is atomic there.
                await MoveIntoPlaceAsync(target, overwrite: false);
                return;
            }

            await _stream.FlushAsync();
            _stream.Flush(flushToDisk: true);
            await _stream.DisposeAsync();
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (Link(stagingPath, target) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new IOException(errno == EExist ? $"{target} exists" : $"link {stagingPath} {target} failed with errno {errno}");
            }

            File.Delete(stagingPath);
            _moved = true;
        }

        public async Task MoveIntoPlaceAsync(string target, bool overwrite)
        {
            await _stream.FlushAsync();
            _stream.Flush(flushToDisk: true);
            await _stream.DisposeAsync();
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Move(stagingPath, target, overwrite);
            _moved = true;
        }

        public async ValueTask DisposeAsync()
        {
            await _stream.DisposeAsync();
            if (!_moved)
            {
                File.Delete(stagingPath);
            }
        }
    }
}
