// The two Functions apps as scripts/publish ships them (artifacts/functionapp and
// artifacts/worker/app), published once per test run into a folder of their own and shared by
// every test that runs them under the host emulator. The deploy tests read the same output.
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests.Functions;

public sealed class PublishedApps
{
    private static readonly Lazy<Task<PublishedApps>> Shared = new(PublishAsync);

    private PublishedApps(string root, string log)
    {
        Root = root;
        Log = log;
    }

    /// <summary>The folder scripts/publish wrote (removed when the test process exits).</summary>
    public string Root { get; }

    public string FunctionApp => Path.Combine(Root, "functionapp");

    public string FunctionAppZip => Path.Combine(Root, "functionapp.zip");

    /// <summary>The worker image's build context.</summary>
    public string Worker => Path.Combine(Root, "worker");

    /// <summary>The build function app inside the worker's build context.</summary>
    public string WorkerApp => Path.Combine(Worker, "app");

    /// <summary>What scripts/publish printed.</summary>
    public string Log { get; }

    public static Task<PublishedApps> GetAsync() => Shared.Value;

    private static async Task<PublishedApps> PublishAsync()
    {
        var root = Directory.CreateTempSubdirectory("nixery-publish-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // A process of a test may still hold a file; the temp folder is swept later.
            }
        };
        var result = await ProcessRunner.RunAsync(
            Path.Combine(RepoPaths.Root, "scripts", "publish"), ["--out", root], TimeSpan.FromMinutes(20), RepoPaths.Root);
        return new PublishedApps(root, result.EnsureSuccess("scripts/publish").Stdout);
    }
}
