using Nixery.Builder.Layers;

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
    public void AnUnknownLayeringIsRejectedWithTheSettingsName()
    {
        var error = Assert.Throws<ArgumentException>(() => BuilderServiceCollectionExtensions.LayerGrouper("dominator"));
        Assert.StartsWith("NIXERY_LAYERING is 'dominator'; it must be 'stable' or 'nixery'.", error.Message, StringComparison.Ordinal);
    }
}
