// The deflate candidates of issue 14, each on one thread over the same tar (of the bench's
// paths, made once in a temp file), timed and sized against gzip -6:
//
//   classic zlib 1.2.13  pigz -p 1 -6 (pigz links the system zlib), and gzip -6 itself
//   libdeflate 1.14      libdeflate-gzip -4/-5/-6/-7 (whole file as one buffer: our 1 MiB
//                        chunks cost ~0.2 % more output)
//   ISA-L 2.30           igzip -1/-2/-3 (3 is its strongest level)
//   zlib-ng              .NET's DeflateStream at levels 4/6 (zlib-ng, compat API, in process)
//
// Each is run twice and the faster run kept (the tar is in the page cache). A tool that is not
// installed is named with its Debian package.
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;

internal static class DeflateCandidates
{
    public static async Task RunAsync(string[] paths)
    {
        var tar = Path.GetTempFileName();
        try
        {
            var quoted = string.Join(' ', paths.Select(p => "'" + p.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
            await ShellAsync($"tar -c --sort=name -f '{tar}' {quoted} 2>/dev/null");
            var length = new FileInfo(tar).Length;
            Console.WriteLine($"deflate candidates, one thread each, on the {length:N0}-byte tar of the same paths:");
            var (gzipTime, gzipSize) = await BestOfTwoAsync(() => ToolAsync("gzip -6", tar));
            var header = $"{"candidate",-34}{"s",8}{"MB/s",8}{"time vs gzip -6",17}{"bytes",14}{"size vs gzip -6",17}";
            Console.WriteLine(header);
            Console.WriteLine(new string('-', header.Length));
            Row("gzip -6 (GNU gzip)", gzipTime, gzipSize);
            foreach (var (label, command, package) in new[]
            {
                ("zlib 1.2.13 -6 (pigz -p 1)", "pigz -p 1 -6", "pigz"),
                ("libdeflate 1.14 -4", "libdeflate-gzip -4", "libdeflate-tools"),
                ("libdeflate 1.14 -5", "libdeflate-gzip -5", "libdeflate-tools"),
                ("libdeflate 1.14 -6 (chosen)", "libdeflate-gzip -6", "libdeflate-tools"),
                ("libdeflate 1.14 -7", "libdeflate-gzip -7", "libdeflate-tools"),
                ("ISA-L -1 (igzip)", "igzip -1", "isal"),
                ("ISA-L -2 (igzip)", "igzip -2", "isal"),
                ("ISA-L -3 (igzip)", "igzip -3", "isal"),
            })
            {
                if (!await ShellAsync($"command -v {command.Split(' ')[0]} >/dev/null", check: false))
                {
                    Console.WriteLine($"{label,-34}not installed (apt-get install {package})");
                    continue;
                }

                var (time, size) = await BestOfTwoAsync(() => ToolAsync(command, tar));
                Row(label, time, size);
            }

            foreach (var level in new[] { 4, 6 })
            {
                var (time, size) = await BestOfTwoAsync(() => Task.FromResult(ZlibNg(tar, level)));
                Row($"zlib-ng -{level} (.NET DeflateStream)", time, size);
            }

            Console.WriteLine();

            void Row(string label, double seconds, long size) =>
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{label,-34}{seconds,8:F2}{length / seconds / 1e6,8:F1}{seconds / gzipTime,17:F2}{size,14:N0}{(double)size / gzipSize,17:F3}"));
        }
        finally
        {
            File.Delete(tar);
        }
    }

    private static async Task<(double Seconds, long Size)> BestOfTwoAsync(Func<Task<(double Seconds, long Size)>> measure)
    {
        var first = await measure();
        var second = await measure();
        return first.Seconds <= second.Seconds ? first : second;
    }

    private static async Task<(double Seconds, long Size)> ToolAsync(string command, string tar)
    {
        var watch = Stopwatch.StartNew();
        var output = await ShellOutputAsync($"{command} -c < '{tar}' | wc -c");
        return (watch.Elapsed.TotalSeconds, long.Parse(output.Trim(), CultureInfo.InvariantCulture));
    }

    // zlib-ng as .NET ships it (System.IO.Compression.Native), raw deflate at a zlib level.
    private static (double Seconds, long Size) ZlibNg(string tar, int level)
    {
        var input = File.ReadAllBytes(tar);
        var watch = Stopwatch.StartNew();
        var counter = new CountingStream();
        using (var deflate = new DeflateStream(counter, new ZLibCompressionOptions { CompressionLevel = level }))
        {
            deflate.Write(input);
        }

        return (watch.Elapsed.TotalSeconds, counter.Count);
    }

    private static async Task<bool> ShellAsync(string script, bool check = true)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", ["-c", script]) { UseShellExecute = false })!;
        await process.WaitForExitAsync();
        return process.ExitCode == 0 || (check ? throw new InvalidOperationException($"'{script}' exited {process.ExitCode}") : false);
    }

    private static async Task<string> ShellOutputAsync(string script)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", ["-c", "set -o pipefail; " + script]) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"'{script}' exited {process.ExitCode}");
    }

    /// <summary>Counts what is written and keeps none of it.</summary>
    private sealed class CountingStream : Stream
    {
        public long Count { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Count;

        public override long Position { get => Count; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Count += count;

        public override void Write(ReadOnlySpan<byte> buffer) => Count += buffer.Length;
    }
}
