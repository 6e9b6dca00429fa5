using System.Globalization;
using Harness.Runtimes.Devices.Simulator;

namespace Harness.DeviceSim.Faults;

/// <summary>
/// The fault options of <c>harness devicesim</c>, turned into per-device faults. A device set is
/// <c>N</c> (N devices counted from the end, skipping devices an earlier fault took, so
/// <c>--offline 2 --failing 1</c> hits three different devices), <c>last:N</c>, <c>first:N</c>,
/// <c>all</c>, or serials separated by commas. Slow is <c>LATENCY[@SET]</c> and defaults to all devices.
/// </summary>
public sealed class FaultPlan
{
    public string? Offline { get; set; }
    public string? Unresponsive { get; set; }
    public string? Failing { get; set; }
    public string? Crashing { get; set; }
    public string? Slow { get; set; }
    public int CrashAfter { get; set; } = 5;
    public TimeSpan CrashDowntime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Resolves the plan against a farm of <paramref name="deviceCount"/> devices; lists every error.</summary>
    public IReadOnlyDictionary<string, DeviceFaults> Resolve(int deviceCount, out IReadOnlyList<string> errors, string prefix = SimulatedFarmOptions.DefaultPrefix)
    {
        var problems = new List<string>();
        var serials = Enumerable.Range(1, deviceCount).Select(i => SimulatedFarmOptions.SerialOf(i, prefix)).ToList();
        var faults = new Dictionary<string, DeviceFaults>(StringComparer.Ordinal);
        var taken = new HashSet<string>(StringComparer.Ordinal);

        void Apply(string option, string? set, DeviceFaults fault)
        {
            if (set is null)
            {
                return;
            }
            foreach (var serial in Select(option, set, serials, taken, problems))
            {
                faults[serial] = faults.TryGetValue(serial, out var existing) ? existing.Combine(fault) : fault;
                taken.Add(serial);
            }
        }

        if (CrashAfter < 1)
        {
            problems.Add($"--crash-after: {CrashAfter} must be at least 1.");
        }
        Apply("--offline", Offline, new DeviceFaults { Offline = true });
        Apply("--unresponsive", Unresponsive, new DeviceFaults { Unresponsive = true });
        Apply("--failing", Failing, new DeviceFaults { Failing = true });
        Apply("--crashing", Crashing, new DeviceFaults { CrashAfterCommands = Math.Max(1, CrashAfter), CrashDowntime = CrashDowntime });
        if (Slow is not null)
        {
            var at = Slow.IndexOf('@', StringComparison.Ordinal);
            var latencyText = at < 0 ? Slow : Slow[..at];
            if (!Durations.TryParse(latencyText, out var latency))
            {
                problems.Add($"--slow: '{latencyText}' is not a duration (like 200ms or 2s).");
            }
            else
            {
                // Slow combines with the other faults, so it does not take devices away from them.
                foreach (var serial in Select("--slow", at < 0 ? "all" : Slow[(at + 1)..], serials, [], problems))
                {
                    var fault = new DeviceFaults { Latency = latency };
                    faults[serial] = faults.TryGetValue(serial, out var existing) ? existing.Combine(fault) : fault;
                }
            }
        }
        errors = problems;
        return faults;
    }

    private static List<string> Select(string option, string set, List<string> serials, HashSet<string> taken, List<string> problems)
    {
        var text = set.Trim();
        if (text == "all")
        {
            return serials;
        }
        if (TryCount(text, out var count))
        {
            var free = serials.Where(s => !taken.Contains(s)).Reverse().Take(count).Reverse().ToList();
            if (free.Count < count)
            {
                problems.Add($"{option}: {count} device(s) asked for, only {free.Count} left without a fault.");
            }
            return free;
        }
        if (text.StartsWith("last:", StringComparison.Ordinal) && TryCount(text[5..], out count))
        {
            return serials.TakeLast(count).ToList();
        }
        if (text.StartsWith("first:", StringComparison.Ordinal) && TryCount(text[6..], out count))
        {
            return serials.Take(count).ToList();
        }
        var listed = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = listed.Where(s => !serials.Contains(s)).ToList();
        if (listed.Length == 0 || unknown.Count > 0)
        {
            problems.Add($"{option}: '{set}' is not a device set; use N, last:N, first:N, all, or serials like SIM-0001,SIM-0002"
                + (unknown.Count > 0 ? $" (no such device: {string.Join(", ", unknown)})." : "."));
            return [];
        }
        return [.. listed];
    }

    private static bool TryCount(string text, out int count) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out count) && count >= 0;
}
