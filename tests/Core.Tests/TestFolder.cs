// A fresh folder per test, removed afterwards. Core.Tests does not reference TestSupport
// (which pulls in the whole HTTP app), so it keeps this small copy of TempDir.
namespace Nixery.Core.Tests;

internal sealed class TestFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("nixery-core-test-").FullName;

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
    }
}
