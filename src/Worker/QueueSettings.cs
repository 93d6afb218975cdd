// The queue trigger's settings the function must know itself: how many deliveries the host
// makes before it poisons a job (so the runner can fail the image on the last one). They
// are the host's, read where the host reads them: host.json in the app folder
// (FUNCTIONS_APPLICATION_DIRECTORY, which the host sets for its worker), overridden by the
// app setting AzureFunctionsJobHost__extensions__queues__maxDequeueCount as the host allows.
// The host's own default is 5 (QueuesOptions.MaxDequeueCount in
// Microsoft.Azure.WebJobs.Extensions.Storage.Queues).
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Nixery.Worker;

public sealed record QueueSettings(int MaxDequeueCount)
{
    public const int HostDefaultMaxDequeueCount = 5;

    public static QueueSettings Read(IConfiguration config)
    {
        var folder = config["FUNCTIONS_APPLICATION_DIRECTORY"] is { Length: > 0 } set ? set : AppContext.BaseDirectory;
        var max = HostDefaultMaxDequeueCount;
        var hostJson = Path.Combine(folder, "host.json");
        if (File.Exists(hostJson))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(hostJson), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (document.RootElement.TryGetProperty("extensions", out var extensions)
                && extensions.TryGetProperty("queues", out var queues)
                && queues.TryGetProperty("maxDequeueCount", out var count)
                && count.TryGetInt32(out var fromFile))
            {
                max = fromFile;
            }
        }

        if (int.TryParse(config["AzureFunctionsJobHost:extensions:queues:maxDequeueCount"], out var overridden))
        {
            max = overridden;
        }

        return new QueueSettings(max);
    }
}
