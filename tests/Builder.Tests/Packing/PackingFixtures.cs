// Store-like trees on disk for the packer tests, and a way to run the real GNU tools the
// output must satisfy (gzip, tar) and collect their raw output.
using System.Diagnostics;
using System.Text;

namespace Nixery.Builder.Tests.Packing;

internal sealed class StoreTree : IDisposable
{
    public const UnixFileMode Dir = (UnixFileMode)0b111_101_101; // 0755
    public const UnixFileMode ReadOnly = (UnixFileMode)0b100_100_100; // 0444, as in the store
    public const UnixFileMode Executable = (UnixFileMode)0b101_101_101; // 0555

    private StoreTree(string root, bool owned)
    {
        Root = root;
        Owned = owned;
    }

    public string Root { get; }

    private bool Owned { get; }

    public string Store => Path.Combine(Root, "nix", "store");

    /// <summary>A fresh tree under a random temp folder.</summary>
    public static StoreTree CreateTemp() =>
        new(Directory.CreateTempSubdirectory("nixery-pack-").FullName, owned: true);

    /// <summary>A tree at a fixed place, rebuilt from scratch, for digests that must not move.</summary>
    public static StoreTree CreateAt(string root)
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }

        Directory.CreateDirectory(root);
        return new StoreTree(root, owned: true);
    }

    public string StorePath(string name) => Path.Combine(Store, name);

    public string AddFile(string relative, string content, UnixFileMode mode = ReadOnly) =>
        AddFile(relative, Encoding.UTF8.GetBytes(content), mode);

    public string AddFile(string relative, byte[] content, UnixFileMode mode = ReadOnly)
    {
        var path = Path.Combine(Store, relative);
        EnsureDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }

        // Times differ between runs and files; the layer must not care.
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddDays(-Random.Shared.Next(1000)));
        return path;
    }

    public string AddDirectory(string relative)
    {
        var path = Path.Combine(Store, relative);
        EnsureDirectory(path);
        return path;
    }

    public string AddSymlink(string relative, string target)
    {
        var path = Path.Combine(Store, relative);
        EnsureDirectory(Path.GetDirectoryName(path)!);
        File.CreateSymbolicLink(path, target);
        return path;
    }

    /// <summary>
    /// The standard package: an executable, a relative symlink, read-only files, an empty
    /// directory, a path longer than 100 bytes (the ustar name field) and a file larger
    /// than the packer's buffers.
    /// </summary>
    public string AddHello(string storeName)
    {
        AddFile($"{storeName}/bin/hello", "#!/bin/sh\necho hello\n", Executable);
        AddSymlink($"{storeName}/bin/hi", "hello");
        AddFile($"{storeName}/share/doc/hello/README", "Says hello.\n");
        AddDirectory($"{storeName}/share/empty");
        AddFile($"{storeName}/lib/{LongSegment('d')}/{LongSegment('f')}.txt", "far down\n");
        AddFile($"{storeName}/data.bin", PatternBytes(300_000));
        return StorePath(storeName);
    }

    public static string LongSegment(char c) => new(c, 60);

    /// <summary>Fixed, not very compressible bytes (no Random: its sequence is not a contract).</summary>
    public static byte[] PatternBytes(int length)
    {
        var bytes = new byte[length];
        uint x = 2463534242;
        for (var i = 0; i < length; i++)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            bytes[i] = (byte)(i % 3 == 0 ? 'a' + (x % 4) : x);
        }

        return bytes;
    }

    public void Dispose()
    {
        if (Owned && Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    private static void EnsureDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, Dir); // whatever the umask
            File.SetUnixFileMode(path, Dir);
        }
    }
}

internal static class Tools
{
    /// <summary>Runs a tool with TZ=UTC and returns its raw stdout; throws on a non-zero exit.</summary>
    public static async Task<byte[]> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["TZ"] = "UTC";
        start.Environment["LC_ALL"] = "C";
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        using var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        await Task.WhenAll(copy, stderr, process.WaitForExitAsync());
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}");
        }

        return stdout.ToArray();
    }

    public static async Task<string> RunTextAsync(string file, params string[] args) =>
        Encoding.UTF8.GetString(await RunAsync(file, args));
}
