// Chooses the storage backend the settings name (NIXERY_STORAGE_BACKEND): the filesystem, or
// Azure Blob Storage with its own settings; and the Azure Storage queue the HTTP function app
// sends build jobs to. Lives here, beside the Azure backends, so that Core knows no vendor.
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Nixery.Core.Options;
using Nixery.Core.Queue;
using Nixery.Core.Storage;

namespace Nixery.Core.Azure;

public static class StorageRegistration
{
    /// <summary>The options classes of the storage the configuration chooses, for Settings.Check.</summary>
    public static IReadOnlyList<Type> StorageSettings(IConfiguration config) =>
        StorageOptions.UsesAzure(config) ? [typeof(StorageOptions), typeof(AzureStorageOptions)] : [typeof(StorageOptions)];

    /// <summary>The backend, the typed store and what every process shares (AddRegistryCore).</summary>
    public static IServiceCollection AddRegistryStorage(this IServiceCollection services, IConfiguration config)
    {
        services.AddSettings<StorageOptions>();
        if (StorageOptions.UsesAzure(config))
        {
            services.AddSettings<AzureStorageOptions>();
            // No network call here: the container is created by the first storage call that
            // needs it (AzureBlobStorage), so the process starts while the account is down.
            services.AddSingleton<IStorageBackend>(sp =>
            {
                var azure = sp.GetRequiredService<AzureStorageOptions>();
                return AzureBlobStorage.Create(
                    azure.CreateContainerClient(StorageCallPolicy.InteractiveBlobs()),
                    azure.SasExpiry,
                    sp.GetService<TimeProvider>(),
                    azure.CreateContainerClient(StorageCallPolicy.BulkBlobs()));
            });
        }
        else
        {
            services.AddSingleton<IStorageBackend>(sp => new FileSystemStorage(sp.GetRequiredService<StorageOptions>().Path));
        }

        return services.AddRegistryCore();
    }

    /// <summary>The HTTP function app's build queue: jobs sent to an Azure Storage queue, which
    /// is created (with its poison queue) by the first enqueue, not at start-up, so the app
    /// starts while the account is down.</summary>
    public static IServiceCollection AddAzureBuildQueue(this IServiceCollection services)
    {
        services.AddSettings<AzureQueueOptions>();
        services.AddSingleton<IBuildQueue>(sp =>
        {
            var options = sp.GetRequiredService<AzureQueueOptions>();
            return new AzureStorageQueue(options.CreateServiceClient(), options);
        });
        return services;
    }
}
