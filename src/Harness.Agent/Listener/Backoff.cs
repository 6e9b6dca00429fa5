namespace Harness.Agent.Listener;

/// <summary>
/// Exponential backoff with "equal jitter": attempt n waits between half and all of
/// min(max, initial·2ⁿ⁻¹), so retries spread out without ever collapsing to zero.
/// </summary>
public sealed class Backoff(TimeSpan initial, TimeSpan max, Random random)
{
    public TimeSpan Initial { get; } = initial;
    public TimeSpan Max { get; } = max;

    /// <summary>The ceiling for attempt <paramref name="attempt"/> (1-based), before jitter.</summary>
    public TimeSpan Ceiling(int attempt)
    {
        var exponent = Math.Min(Math.Max(attempt - 1, 0), 30);
        var ticks = Math.Min(Max.Ticks, Initial.Ticks * Math.Pow(2, exponent));
        return TimeSpan.FromTicks((long)ticks);
    }

    public TimeSpan Next(int attempt)
    {
        // Whole milliseconds: timers have no finer resolution, and logs read better.
        var ceiling = Ceiling(attempt).TotalMilliseconds;
        return TimeSpan.FromMilliseconds(Math.Floor(ceiling / 2 + random.NextDouble() * ceiling / 2));
    }
}
