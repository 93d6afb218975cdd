// How long an idle queue listener waits before it polls again: the host's randomized
// exponential backoff (azure-sdk-for-net sdk/storage/Microsoft.Azure.WebJobs.Extensions.Storage.
// Common/src/Shared/Timers/RandomizedExponentialBackoffStrategy.cs, built in QueueListener with
// minimum 100 ms = QueuePollingIntervals.Minimum and maximum = maxPollingInterval):
//   after a poll that found messages: the minimum;
//   after each empty poll:            minimum + (0.8…1.2) × 2^(n-1) × minimum, until the maximum.
namespace Nixery.FunctionsHost;

internal sealed class PollingBackoff(TimeSpan minimum, TimeSpan maximum)
{
    private const double Randomization = 0.2;

    private TimeSpan _current;
    private int _exponent;

    public TimeSpan Next(bool foundMessages)
    {
        if (foundMessages)
        {
            _current = minimum;
            _exponent = 1;
        }
        else if (_current != maximum)
        {
            var next = minimum;
            if (_exponent > 0)
            {
                var factor = 1 - Randomization + (Random.Shared.NextDouble() * 2 * Randomization);
                next += TimeSpan.FromMilliseconds(factor * Math.Pow(2, _exponent - 1) * minimum.TotalMilliseconds);
            }

            if (next < maximum)
            {
                _current = next;
                _exponent++;
            }
            else
            {
                _current = maximum;
            }
        }

        return _current;
    }
}
