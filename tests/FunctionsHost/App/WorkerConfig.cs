// worker.config.json: how the host learns which program runs the app. For a .NET isolated
// app the Worker SDK writes it next to the app's dll: description.defaultExecutablePath
// ("dotnet"), description.defaultWorkerPath (the app's dll, relative to the folder) and an
// optional description.arguments (passed before the worker path).
// Host: src/WebJobs.Script/Workers/Rpc/Configuration/RpcWorkerConfigFactory.cs (arguments
// become ExecutableArguments; "workerArguments" is not used for gRPC workers) and
// src/WebJobs.Script/Workers/Rpc/RpcWorkerDescription.cs (a relative defaultWorkerPath is
// joined to the worker directory, "{workerDirectoryPath}" in arguments is replaced by it;
// "dotnet" is resolved through PATH on Linux).
using System.Text.Json;

namespace Nixery.FunctionsHost;

internal sealed record WorkerConfig(string Language, string ExecutablePath, string WorkerPath, IReadOnlyList<string> Arguments, string WorkerDirectory)
{
    public const string FileName = "worker.config.json";

    public static WorkerConfig Read(string appDirectory)
    {
        var path = Path.Combine(appDirectory, FileName);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{path} is missing: the app directory must be a Functions app build or publish output (Microsoft.Azure.Functions.Worker.Sdk writes worker.config.json).");
        }

        using var json = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (!json.RootElement.TryGetProperty("description", out var description))
        {
            throw new InvalidOperationException($"{path} has no \"description\" object.");
        }

        var executable = Text(description, "defaultExecutablePath")
            ?? throw new InvalidOperationException($"{path}: description.defaultExecutablePath is missing.");
        var worker = Text(description, "defaultWorkerPath")
            ?? throw new InvalidOperationException($"{path}: description.defaultWorkerPath is missing.");
        worker = Path.IsPathRooted(worker) ? worker : Path.Combine(appDirectory, worker);
        if (!File.Exists(worker))
        {
            throw new InvalidOperationException($"{path}: description.defaultWorkerPath {worker} does not exist.");
        }

        var arguments = description.TryGetProperty("arguments", out var args) && args.ValueKind == JsonValueKind.Array
            ? args.EnumerateArray().Select(a => (a.GetString() ?? "").Replace("{workerDirectoryPath}", appDirectory, StringComparison.Ordinal)).Where(a => a.Length > 0).ToList()
            : [];
        return new WorkerConfig(Text(description, "language") ?? "", executable, worker, arguments, appDirectory);
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
