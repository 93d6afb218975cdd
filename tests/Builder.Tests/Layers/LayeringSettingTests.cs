using Microsoft.Extensions.Configuration;
using Nixery.Builder.Layers;
using Nixery.Core.Options;

namespace Nixery.Builder.Tests.Layers;

public class LayeringSettingTests
{
    [Fact]
    public void NixeryLayeringNamesTheGrouper()
    {
        Assert.IsType<StableLayerGrouper>(BuilderServiceCollectionExtensions.LayerGrouper("stable"));
        Assert.IsType<NixeryLayerGrouper>(BuilderServiceCollectionExtensions.LayerGrouper("nixery"));
    }

    [Fact]
    public void AnUnknownLayeringIsRefusedAtStartUpWithTheSettingsName()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection([new("NIXERY_LAYERING", "dominator"), new("NIXERY_NIX_PATH", RepoNix)]).Build();

        var errors = Settings.Check(config, [typeof(BuildOptions)]);

        Assert.Equal(["NIXERY_LAYERING is 'dominator'; it must be 'stable' or 'nixery'."], errors);
        Assert.Throws<ArgumentOutOfRangeException>(() => BuilderServiceCollectionExtensions.LayerGrouper("dominator"));
    }

    private static string RepoNix => Nixery.TestSupport.RepoPaths.NixDir;
}
