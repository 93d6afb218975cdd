// Where the sample app's build output is (the app folder every test starts), and the app
// settings it needs on an Azurite: the connection its queue bindings name and its queue names.
using System.Reflection;
using Azure.Storage.Queues;
using Nixery.TestSupport;

namespace Nixery.FunctionsHost.Tests;

internal static class SampleApp
{
    public static string Directory { get; } = typeof(SampleApp).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "SampleAppDirectory").Value!;

    /// <summary>Settings for a sample host on <paramref name="azurite"/>; queue names get
    /// <paramref name="suffix"/> so hosts of different tests never share a queue.</summary>
    public static Dictionary<string, string> Settings(Azurite azurite, string suffix) => new()
    {
        ["SampleStorage"] = azurite.ConnectionString,
        ["AzureWebJobsStorage"] = azurite.ConnectionString,
        ["RECORD_QUEUE"] = $"record-{suffix}",
        ["FLAKY_QUEUE"] = $"flaky-{suffix}",
        ["SLOW_QUEUE"] = $"slow-{suffix}",
    };

    /// <summary>A client for a queue of <paramref name="azurite"/>, Base64 like the sample's host.json.</summary>
    public static QueueClient Queue(Azurite azurite, string name) =>
        new(azurite.ConnectionString, name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    /// <summary>Creates the trigger queues the settings name (the host never creates a trigger queue).</summary>
    public static async Task CreateQueuesAsync(Azurite azurite, IReadOnlyDictionary<string, string> settings)
    {
        foreach (var name in new[] { "RECORD_QUEUE", "FLAKY_QUEUE", "SLOW_QUEUE" })
        {
            await Queue(azurite, settings[name]).CreateIfNotExistsAsync();
        }
    }
}
