using System.Globalization;

namespace Harness.Cli.Operator;

internal static class Formatting
{
    public static string Ago(DateTimeOffset? at, DateTimeOffset now) => at is { } t ? $"{Duration(now - t)} ago" : "never";

    /// <summary>How long something took: tenths of a second below 10 s (a run on a small farm takes less than one).</summary>
    public static string Elapsed(TimeSpan span) =>
        span >= TimeSpan.Zero && span.TotalSeconds < 10
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.0}s")
            : Duration(span);

    public static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }
        return span.TotalSeconds < 60 ? $"{(int)span.TotalSeconds}s"
            : span.TotalMinutes < 60 ? $"{(int)span.TotalMinutes}m{span.Seconds:00}s"
            : span.TotalHours < 48 ? $"{(int)span.TotalHours}h{span.Minutes:00}m"
            : $"{(int)span.TotalDays}d";
    }

    public static string Time(DateTimeOffset? at) =>
        at?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";

    public static string Truncate(string? text, int max)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        var line = text.ReplaceLineEndings(" ");
        return line.Length <= max ? line : line[..(max - 1)] + "…";
    }
}
