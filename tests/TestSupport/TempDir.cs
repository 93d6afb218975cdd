// A fresh folder per test, removed afterwards, so tests that write files can run in parallel.
namespace Nixery.TestSupport;

public sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "nixery-test")
    {
        Path = Directory.CreateTempSubdirectory(prefix + "-").FullName;
    }

    public string Path { get; }

    /// <summary>A path inside the folder.</summary>
    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder must not fail the test that used it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
