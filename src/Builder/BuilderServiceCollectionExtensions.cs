// Registers the build side (Nix client, layer grouping, layer cache, image builder, the job runner), for
// the two processes that build: the build function app (src/Worker) and the embedded
// default (src/Embedded), which adds the in-process worker loop (AddInProcessWorker).
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nixery.Builder.Images;
using Nixery.Builder.Layers;
using Nixery.Builder.Nix;
using Nixery.Builder.PopularityData;
using Nixery.Builder.Sources;
using Nixery.Builder.Worker;
using Nixery.Core.Options;

namespace Nixery.Builder;

public static class BuilderServiceCollectionExtensions
{
    /// <summary>The options classes the build reads, for Settings.Check.</summary>
    public static IReadOnlyList<Type> SettingTypes { get; } = [typeof(BuildOptions)];

    public static IServiceCollection AddBuilder(this IServiceCollection services)
    {
        services.AddSettings<BuildOptions>();
        services.AddSingleton(sp =>
        {
            var build = sp.GetRequiredService<BuildOptions>();
            return new NixOptions { NixExpressionsPath = build.NixExpressionsPath, Timeout = build.NixTimeout };
        });
        services.AddSingleton<INixClient, NixClient>();
        services.AddSingleton(sp => LayerGrouper(sp.GetRequiredService<BuildOptions>().Layering));
        services.AddSingleton(sp =>
        {
            var build = sp.GetRequiredService<BuildOptions>();
            return new ImageBuilderOptions(build.LayerBudget, build.LayerClaimTtl, build.PackConcurrency, build.MaxImageBytes);
        });
        // NIX_POPULARITY_URL if set; else popularity/computed.json, else learned.json (PopularitySource).
        services.AddSingleton(sp => new PopularitySourceOptions(LoadPopularity(sp.GetRequiredService<BuildOptions>().PopularityPath), PopularitySourceOptions.DefaultCacheFor));
        services.AddSingleton<PopularityStore>();
        services.AddSingleton<PopularitySource>();
        services.AddSingleton(sp => new SourceCheckoutOptions(sp.GetRequiredService<BuildOptions>().SourceCachePath));
        services.AddSingleton(sp => new SourceCheckout(
            sp.GetRequiredService<SourceCheckoutOptions>(), new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, sp.GetRequiredService<ILogger<SourceCheckout>>()));
        services.AddSingleton<NixPlatforms>();
        services.AddSingleton<LayerCache>();
        services.AddSingleton<PackageIndexPublisher>();
        services.AddSingleton<ImageBuilder>();
        services.AddSingleton<BuildJobRunner>();
        return services;
    }

    /// <summary>The embedded default's in-process worker loops over the in-process queue.</summary>
    public static IServiceCollection AddInProcessWorker(this IServiceCollection services, int workers, int maxDequeueCount)
    {
        services.AddSingleton(new WorkerOptions(workers, maxDequeueCount));
        if (workers > 0)
        {
            services.AddHostedService<BuildWorker>();
        }

        return services;
    }

    /// <summary>The grouper NIXERY_LAYERING names (BuildOptions checks the name at start-up).</summary>
    public static ILayerGrouper LayerGrouper(string layering) => layering switch
    {
        BuildOptions.StableLayering => new StableLayerGrouper(),
        BuildOptions.NixeryLayering => new NixeryLayerGrouper(),
        _ => throw new ArgumentOutOfRangeException(nameof(layering), layering, "no such layering; BuildOptions refuses it at start-up"),
    };

    private static Popularity? LoadPopularity(string? path) => path is null ? null : Popularity.Parse(File.ReadAllText(path));
}
