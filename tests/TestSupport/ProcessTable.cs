// Whether any process on this machine still runs with a marker in its command line, read
// from /proc: how a test shows that a killed Nix build left nothing behind. A SIGKILL lands
// asynchronously, so the check repeats until it holds or a bound passes; a survivor then
// fails the test instead of hanging it.
using System.Diagnostics;

namespace Nixery.TestSupport;

public static class ProcessTable
{
    /// <summary>True once no process's command line holds <paramref name="marker"/>; false if
    /// one still does after <paramref name="bound"/>.</summary>
    public static async Task<bool> NoneMentionsAsync(string marker, TimeSpan bound)
    {
        var waited = Stopwatch.StartNew();
        while (Directory.EnumerateDirectories("/proc").Any(d => int.TryParse(Path.GetFileName(d), out _) && CommandLine(d).Contains(marker, StringComparison.Ordinal)))
        {
            if (waited.Elapsed > bound)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    private static string CommandLine(string procDir)
    {
        try
        {
            return File.ReadAllText(Path.Combine(procDir, "cmdline"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
