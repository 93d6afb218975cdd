// nix path-info --json changed shape in Nix 2.19 (array → object keyed by path); the client reads both.
using Nixery.Builder.Nix;

namespace Nixery.Builder.Tests.Nix;

public sealed class PathInfoParsingTests
{
    private static readonly StorePathInfo[] Expected =
    [
        new("/nix/store/aaa-libc", ["/nix/store/aaa-libc"], 100, 100),
        new("/nix/store/bbb-bash", ["/nix/store/aaa-libc", "/nix/store/bbb-bash"], 50, 150),
    ];

    private static void AssertSame(IReadOnlyList<StorePathInfo> actual)
    {
        Assert.Equal(Expected.Length, actual.Count);
        for (var i = 0; i < Expected.Length; i++)
        {
            Assert.Equal(Expected[i].Path, actual[i].Path);
            Assert.Equal(Expected[i].References, actual[i].References);
            Assert.Equal(Expected[i].NarSize, actual[i].NarSize);
            Assert.Equal(Expected[i].ClosureSize, actual[i].ClosureSize);
        }
    }

    [Fact]
    public void Nix28ArrayShapeIsRead()
    {
        var json = """
            [{"path":"/nix/store/aaa-libc","narHash":"sha256-x","narSize":100,"references":["/nix/store/aaa-libc"],"closureSize":100,"ultimate":true},
             {"path":"/nix/store/bbb-bash","narSize":50,"references":["/nix/store/bbb-bash","/nix/store/aaa-libc"],"closureSize":150}]
            """;

        AssertSame(NixClient.ParsePathInfo(json));
    }

    [Fact]
    public void NewerObjectShapeIsRead()
    {
        var json = """
            {"/nix/store/aaa-libc":{"narSize":100,"references":["/nix/store/aaa-libc"],"closureSize":100},
             "/nix/store/bbb-bash":{"narSize":50,"references":["/nix/store/bbb-bash","/nix/store/aaa-libc"],"closureSize":150}}
            """;

        AssertSame(NixClient.ParsePathInfo(json));
    }
}
