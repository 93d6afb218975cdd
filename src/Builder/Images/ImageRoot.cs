// What every image has besides its packages, so that it behaves like a distribution's: a
// writable /tmp, user and group entries (`whoami`, ssh, git and many others ask the C library
// for the current user, which reads /etc/passwd through /etc/nsswitch.conf), a home folder,
// and HOME. The meta-package `nonroot` adds a user that the config's User runs as: Nixery's
// issue #136, and Kubernetes' runAsNonRoot, which accepts only a numeric User it can check
// (so the config says "65532:65532", never the name). The ids and names are distroless'
// (nonroot 65532) and Debian's (nobody 65534, group nogroup); they are fixed text, so the
// entries are the same bytes on every machine.
//
// The entries go into the symlink layer and win over a package's file of the same path (a
// package set's /etc/passwd would not know the image's user).
using System.Text;
using Nixery.Builder.Packing;

namespace Nixery.Builder.Images;

/// <param name="User">The config's User, null for root.</param>
/// <param name="Home">HOME of the image's user.</param>
/// <param name="Key">What tells this root apart in the symlink layer's cache key.</param>
public sealed record ImageRoot(string? User, string Home, IReadOnlyList<RootEntry> Entries, string Key)
{
    public const string NonRootName = "nonroot";
    public const int NonRootId = 65532;
    public const int NobodyId = 65534;

    private const UnixFileMode Directory = (UnixFileMode)0b111_101_101; // 0755
    private const UnixFileMode Private = (UnixFileMode)0b111_000_000; // 0700
    private const UnixFileMode Sticky = (UnixFileMode)0b1_111_111_111; // 1777
    private const UnixFileMode Readable = (UnixFileMode)0b110_100_100; // 0644

    private const string NssSwitch =
        "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\nethers: files\nrpc: files\n";

    public static ImageRoot Root { get; } = Make(nonRoot: false);

    public static ImageRoot NonRoot { get; } = Make(nonRoot: true);

    public static ImageRoot For(bool nonRoot) => nonRoot ? NonRoot : Root;

    private static ImageRoot Make(bool nonRoot)
    {
        var passwd = new StringBuilder()
            .Append("root:x:0:0:root:/root:/bin/sh\n")
            .Append($"nobody:x:{NobodyId}:{NobodyId}:nobody:/nonexistent:/usr/sbin/nologin\n");
        var group = new StringBuilder()
            .Append("root:x:0:\n")
            .Append($"nogroup:x:{NobodyId}:\n");
        var home = nonRoot ? $"/home/{NonRootName}" : "/root";
        List<RootEntry> entries =
        [
            RootEntry.Folder("tmp", Sticky),
            RootEntry.Folder("root", Private),
            RootEntry.File("etc/nsswitch.conf", Readable, NssSwitch),
        ];
        if (nonRoot)
        {
            passwd.Append($"{NonRootName}:x:{NonRootId}:{NonRootId}:{NonRootName}:{home}:/bin/sh\n");
            group.Append($"{NonRootName}:x:{NonRootId}:\n");
            entries.Add(RootEntry.Folder("home", Directory));
            entries.Add(RootEntry.Folder(home.TrimStart('/'), Directory, NonRootId));
        }

        entries.Add(RootEntry.File("etc/passwd", Readable, passwd.ToString()));
        entries.Add(RootEntry.File("etc/group", Readable, group.ToString()));
        return new ImageRoot(nonRoot ? $"{NonRootId}:{NonRootId}" : null, home, entries, nonRoot ? "root-1/nonroot" : "root-1/root");
    }
}
