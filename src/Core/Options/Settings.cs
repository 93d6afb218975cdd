// Reading one setting from configuration, shared by every options class: a blank value is
// unset, and a value out of range adds one sentence naming the setting and its range to the
// start-up errors (then the default stands in, so every wrong setting is reported at once).
using Microsoft.Extensions.Configuration;

namespace Nixery.Core.Options;

internal static class Settings
{
    public static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <param name="unit">Named in the sentence when it helps ("seconds").</param>
    public static int Int(IConfiguration config, string key, int fallback, int min, int max, List<string> errors, string? unit = null)
    {
        var text = config[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (!int.TryParse(text, out var value) || value < min || value > max)
        {
            errors.Add($"{key} is '{text}'; it must be a whole number{(unit is null ? "" : " of " + unit)} from {min} to {max}.");
            return fallback;
        }

        return value;
    }
}
