using System.Globalization;

namespace Harness.DeviceSim.Faults;

/// <summary>Durations as people type them: <c>200ms</c>, <c>2s</c>, <c>1.5s</c>, <c>1m</c>, or a bare number of milliseconds.</summary>
public static class Durations
{
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        var value = text.Trim().ToLowerInvariant();
        var (number, unit) = value.EndsWith("ms", StringComparison.Ordinal) ? (value[..^2], 1.0)
            : value.EndsWith('s') ? (value[..^1], 1000.0)
            : value.EndsWith('m') ? (value[..^1], 60_000.0)
            : (value, 1.0);
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) || amount < 0)
        {
            return false;
        }
        duration = TimeSpan.FromMilliseconds(amount * unit);
        return true;
    }
}
