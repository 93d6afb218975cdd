// What a directory entry is, as lstat(2) reports it. .NET's FileSystemInfo tells a
// directory and a symlink apart but reports FIFOs, sockets and device files as ordinary
// files; opening a FIFO blocks forever and /dev/zero never ends. The Nix store cannot hold
// such files (a NAR has only files, executables, symlinks and directories), but the packer
// also runs on plain directories (the benchmark, tests), so it asks the kernel.
using System.Runtime.InteropServices;

namespace Nixery.Builder.Packing;

internal enum FileKind
{
    Regular,
    Directory,
    SymbolicLink,
    Other,
}

internal static class FileKinds
{
    private const int StatBufferSize = 256; // struct stat is 144 bytes on x86-64, 128 on arm64
    private const uint TypeMask = 0xF000; // S_IFMT
    private const uint RegularType = 0x8000; // S_IFREG
    private const uint DirectoryType = 0x4000; // S_IFDIR
    private const uint LinkType = 0xA000; // S_IFLNK

    // Offset of st_mode in glibc's struct stat; -1 where we do not know the layout.
    private static readonly int ModeOffset =
        !OperatingSystem.IsLinux() ? -1 : RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 24,
            Architecture.Arm64 => 16,
            _ => -1,
        };

    public static FileKind Of(FileSystemInfo entry)
    {
        if (entry.LinkTarget is not null)
        {
            return FileKind.SymbolicLink;
        }

        if (entry is DirectoryInfo)
        {
            return FileKind.Directory;
        }

        if (ModeOffset < 0)
        {
            return FileKind.Regular;
        }

        var buffer = new byte[StatBufferSize];
        if (LStat(entry.FullName, buffer) != 0)
        {
            throw new IOException($"lstat {entry.FullName} failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return (BitConverter.ToUInt32(buffer, ModeOffset) & TypeMask) switch
        {
            RegularType => FileKind.Regular,
            DirectoryType => FileKind.Directory,
            LinkType => FileKind.SymbolicLink,
            _ => FileKind.Other,
        };
    }

    // glibc exports lstat since 2.33 (Debian 12 has 2.36).
    [DllImport("libc", EntryPoint = "lstat", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int LStat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [Out] byte[] buffer);
}
