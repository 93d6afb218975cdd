// How a test holds a sample function at a point of its choosing: the function waits for a
// file the test creates. Bounded, so a test that never releases fails instead of hanging.
namespace Nixery.FunctionsHost.Sample;

internal static class Signals
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    public static async Task WaitForFileAsync(string path, CancellationToken cancellationToken)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            if (waited.Elapsed > Bound)
            {
                throw new TimeoutException($"{path} did not appear within {Bound}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }
}
