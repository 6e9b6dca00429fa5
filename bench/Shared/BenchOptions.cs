using System.Globalization;

/// <summary>A load tool's command line: a mode, then <c>--key value</c> pairs. Shared by bench/Harness.Bench and bench/Harness.Fleet.</summary>
internal sealed class Options(string mode, Dictionary<string, string> values)
{
    public string Mode { get; } = mode;

    public static Options Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }
        return new Options(args.Length > 0 ? args[0] : "", values);
    }

    public string Get(string key, string? fallback = null) =>
        values.TryGetValue(key, out var value) ? value : fallback ?? throw new ArgumentException($"--{key} is required");

    public int Int(string key, int fallback) => values.TryGetValue(key, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    public double Double(string key, double fallback) => values.TryGetValue(key, out var value) ? double.Parse(value, CultureInfo.InvariantCulture) : fallback;
}
