// The write side of a staged upload on Azure: bytes are cut into blocks of BlockSize and
// staged (Put Block) on the staging blob as they come, so memory holds one block, never the
// whole layer. Nothing is committed until Commit, which writes the block list with the
// content type in one request.
//
// Why not the SDK's BlockBlobClient.OpenWrite: it first creates an empty blob and then
// commits with If-Match on that blob's ETag, and staging blocks never moves Last-Modified.
// A long upload would therefore look abandoned to the staging sweeper (which deletes
// staging/ objects by age) and could be deleted under the writer; touching the blob to
// refresh its age would change the ETag and fail the commit. Here an upload in flight has
// only uncommitted blocks, which List Blobs does not show: the sweeper cannot see it, and
// if its writer dies the service discards the blocks after seven days by itself.
using System.Buffers;
using System.Globalization;
using System.Text;
using global::Azure.Storage.Blobs.Models;
using global::Azure.Storage.Blobs.Specialized;

namespace Nixery.Core.Azure;

internal sealed class BlockUploadStream(BlockBlobClient blob, int blockSize) : Stream
{
    /// <summary>The service's limit on blocks per blob; with 8 MiB blocks, 390 GiB.</summary>
    private const int MaxBlocks = 50_000;

    private readonly List<string> _blockIds = [];
    private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(blockSize);
    private int _filled;
    private long _written;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => _buffer is not null;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _written; set => throw new NotSupportedException(); }

    /// <summary>True once any block has been staged, i.e. the service holds something to discard.</summary>
    public bool HasStagedBlocks => _blockIds.Count > 0;

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var block = _buffer ?? throw new ObjectDisposedException(nameof(BlockUploadStream));
        while (buffer.Length > 0)
        {
            var n = Math.Min(buffer.Length, block.Length - _filled);
            buffer[..n].CopyTo(block.AsMemory(_filled));
            _filled += n;
            _written += n;
            buffer = buffer[n..];
            if (_filled == block.Length)
            {
                await StageAsync(cancellationToken);
            }
        }
    }

    /// <summary>The whole content when nothing has been staged (it is smaller than one block),
    /// for a caller that puts it in one request instead; null once a block went out. The stream
    /// takes no more writes after this.</summary>
    public ReadOnlyMemory<byte>? SingleBlock()
    {
        if (_blockIds.Count > 0 || _buffer is null)
        {
            return null;
        }

        // Copied out so that the pooled buffer goes back now; it is at most one block.
        var whole = _buffer.AsSpan(0, _filled).ToArray();
        Release();
        return whole;
    }

    /// <summary>Stages what is buffered and commits the block list: the blob now exists, whole.</summary>
    public async Task CommitAsync(string? contentType, CancellationToken cancellationToken)
    {
        await StageAsync(cancellationToken);
        await blob.CommitBlockListAsync(_blockIds, new CommitBlockListOptions { HttpHeaders = new BlobHttpHeaders { ContentType = contentType } }, cancellationToken);
        Release();
    }

    /// <summary>Flush is a no-op: a partial block is staged only when full or at commit, so
    /// that every block but the last has the same size.</summary>
    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        Release();
        base.Dispose(disposing);
    }

    private async Task StageAsync(CancellationToken cancellationToken)
    {
        if (_filled == 0 || _buffer is null)
        {
            return;
        }

        if (_blockIds.Count == MaxBlocks)
        {
            throw new InvalidOperationException($"upload exceeds {MaxBlocks} blocks of {blockSize} bytes, the most one blob can have");
        }

        // Block ids must all have the same length within a blob.
        var id = Convert.ToBase64String(Encoding.ASCII.GetBytes(_blockIds.Count.ToString("d6", CultureInfo.InvariantCulture)));
        using (var content = new MemoryStream(_buffer, 0, _filled, writable: false))
        {
            await blob.StageBlockAsync(id, content, cancellationToken: cancellationToken);
        }

        _blockIds.Add(id);
        _filled = 0;
    }

    private void Release()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }
}
