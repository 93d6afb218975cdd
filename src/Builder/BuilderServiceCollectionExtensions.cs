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
    public static IServiceCollection AddBuilder(this IServiceCollection services, RegistryOptions options)
    {
        services.AddSingleton(new NixOptions { NixExpressionsPath = options.NixExpressionsPath, Timeout = options.NixTimeout });
        services.AddSingleton<INixClient, NixClient>();
        services.AddSingleton(LayerGrouper(options.Layering));
        services.AddSingleton(new ImageBuilderOptions(options.LayerBudget, options.LayerClaimTtl, options.PackConcurrency));
        // NIX_POPULARITY_URL if set; else popularity/computed.json, else learned.json (PopularitySource).
        services.AddSingleton(new PopularitySourceOptions(LoadPopularity(options.PopularityUrl), PopularitySourceOptions.DefaultCacheFor));
        services.AddSingleton<PopularityStore>();
        services.AddSingleton<PopularitySource>();
        services.AddSingleton(new SourceCheckoutOptions(options.SourceCachePath));
        services.AddSingleton(sp => new SourceCheckout(
            sp.GetRequiredService<SourceCheckoutOptions>(), new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, sp.GetRequiredService<ILogger<SourceCheckout>>()));
        services.AddSingleton<NixPlatforms>();
        services.AddSingleton<LayerCache>();
        services.AddSingleton<ImageBuilder>();
        services.AddSingleton<BuildJobRunner>();
        return services;
    }

    /// <summary>The embedded default's NIXERY_WORKERS loops over the in-process queue.</summary>
    public static IServiceCollection AddInProcessWorker(this IServiceCollection services, RegistryOptions options)
    {
        services.AddSingleton(new WorkerOptions(options.Workers, options.MaxDequeueCount));
        if (options.Workers > 0)
        {
            services.AddHostedService<BuildWorker>();
        }

        return services;
    }

    /// <summary>The grouper NIXERY_LAYERING names: "stable" (the default) or "nixery".</summary>
    public static ILayerGrouper LayerGrouper(string layering) => layering switch
    {
        "stable" => new StableLayerGrouper(),
        "nixery" => new NixeryLayerGrouper(),
        _ => throw new ArgumentException($"NIXERY_LAYERING is '{layering}'; it must be 'stable' or 'nixery'.", nameof(layering)),
    };

    private static Popularity? LoadPopularity(string? url)
    {
        if (url is null)
        {
            return null;
        }

        var path = url.StartsWith("file://", StringComparison.Ordinal) ? new Uri(url).LocalPath : url;
        return Popularity.Parse(File.ReadAllText(path));
    }
}
