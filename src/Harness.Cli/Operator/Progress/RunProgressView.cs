using System.Globalization;
using System.Text;
using Harness.Contracts.Runs;

namespace Harness.Cli.Operator.Progress;

/// <summary>
/// How a run's progress reads on a terminal: a counts line per state, a progress bar of ended
/// over total devices, a grid with one character per device in index_no order, and a line per
/// failed device. Pure functions of a <see cref="RunDetail"/>, so every frame can be tested.
/// </summary>
internal static class RunProgressView
{
    public const int GridColumns = 50;
    public const int BarWidth = 30;

    public const string Legend =
        ". queued  d dispatched  p preflight  R running  W waiting  S succeeded  F failed  T timed out  C cancelled  - skipped offline";

    /// <summary>The states in the order a device passes through them, with the label each counts line uses.</summary>
    public static readonly IReadOnlyList<(string Status, Func<RunCounts, int> Count)> States =
    [
        (DeviceRunStatus.Queued, c => c.Queued),
        (DeviceRunStatus.Dispatched, c => c.Dispatched),
        (DeviceRunStatus.Preflight, c => c.Preflight),
        (DeviceRunStatus.Running, c => c.Running),
        (DeviceRunStatus.Waiting, c => c.Waiting),
        (DeviceRunStatus.Succeeded, c => c.Succeeded),
        (DeviceRunStatus.Failed, c => c.Failed),
        (DeviceRunStatus.TimedOut, c => c.TimedOut),
        (DeviceRunStatus.Cancelled, c => c.Cancelled),
        (DeviceRunStatus.SkippedOffline, c => c.SkippedOffline),
    ];

    public static char Symbol(string status) => status switch
    {
        DeviceRunStatus.Queued => '.',
        DeviceRunStatus.Dispatched => 'd',
        DeviceRunStatus.Preflight => 'p',
        DeviceRunStatus.Running => 'R',
        DeviceRunStatus.Waiting => 'W',
        DeviceRunStatus.Succeeded => 'S',
        DeviceRunStatus.Failed => 'F',
        DeviceRunStatus.TimedOut => 'T',
        DeviceRunStatus.Cancelled => 'C',
        DeviceRunStatus.SkippedOffline => '-',
        _ => '?',
    };

    /// <summary><c>queued 3  dispatched 0  …  skipped_offline 1</c>: every state, zeros included, so the columns never jump.</summary>
    public static string CountsLine(RunCounts counts) =>
        string.Join("  ", States.Select(s => $"{s.Status} {s.Count(counts).ToString(CultureInfo.InvariantCulture)}"));

    /// <summary>Only the states some device is in: the plain line printed when output is not a terminal.</summary>
    public static string NonZeroCounts(RunCounts counts)
    {
        var parts = States.Where(s => s.Count(counts) > 0).Select(s => $"{s.Status} {s.Count(counts).ToString(CultureInfo.InvariantCulture)}").ToList();
        return parts.Count == 0 ? "no devices" : string.Join("  ", parts);
    }

    /// <summary><c>[#########.....................]  15/50  30%</c>: devices that ended (any terminal state) over all devices.</summary>
    public static string ProgressBar(RunCounts counts, int width = BarWidth)
    {
        var done = Math.Min(counts.Terminal, counts.Total);
        var filled = counts.Total == 0 ? width : done * width / counts.Total;
        var percent = counts.Total == 0 ? 100 : done * 100 / counts.Total;
        return $"[{new string('#', filled)}{new string('.', width - filled)}]  {done.ToString(CultureInfo.InvariantCulture)}/{counts.Total.ToString(CultureInfo.InvariantCulture)}  {percent.ToString(CultureInfo.InvariantCulture)}%";
    }

    /// <summary>Devices in index_no order (unnumbered ones last, by device_id).</summary>
    public static IReadOnlyList<RunDeviceView> Ordered(IReadOnlyList<RunDeviceView> devices) =>
        [.. devices.OrderBy(d => d.IndexNo ?? int.MaxValue).ThenBy(d => d.NodeId, StringComparer.Ordinal).ThenBy(d => d.DeviceId, StringComparer.Ordinal)];

    /// <summary>
    /// <c>#1    SSSSSSSSSS SSSFRR.... ..........</c>: rows of <see cref="GridColumns"/> devices in groups of ten,
    /// each row labelled with the index_no of its first device.
    /// </summary>
    /// When there are more rows than <paramref name="maxRows"/>, the last row shown says how many devices are not.
    public static IReadOnlyList<string> Grid(IReadOnlyList<RunDeviceView> devices, int columns = GridColumns, int maxRows = int.MaxValue)
    {
        var rows = Ordered(devices).Chunk(columns).ToList();
        var shown = rows.Count <= maxRows ? rows : rows.Take(Math.Max(maxRows - 1, 0)).ToList();
        var labels = shown.Select(row => row[0].IndexNo is { } i ? $"#{i.ToString(CultureInfo.InvariantCulture)}" : "#?").ToList();
        var labelWidth = labels.Count == 0 ? 0 : labels.Max(l => l.Length);
        var lines = shown.Select((row, r) =>
        {
            var line = new StringBuilder(labels[r].PadRight(labelWidth)).Append(' ');
            for (var i = 0; i < row.Length; i++)
            {
                if (i > 0 && i % 10 == 0)
                {
                    line.Append(' ');
                }
                line.Append(Symbol(row[i].Status));
            }
            return line.ToString();
        }).ToList();
        if (shown.Count < rows.Count)
        {
            var hidden = rows.Skip(shown.Count).Sum(r => r.Length);
            lines.Add($"… {hidden.ToString(CultureInfo.InvariantCulture)} more devices (enlarge the terminal, or see `harness runs show`)");
        }
        return lines;
    }

    /// <summary>A device that ended badly, e.g. <c>#17 SIM-0017 failed: device_unresponsive</c>; null for one that did not.</summary>
    public static string? FailureLine(RunDeviceView device)
    {
        if (device.Status is not (DeviceRunStatus.Failed or DeviceRunStatus.TimedOut))
        {
            return null;
        }
        var index = device.IndexNo is { } i ? $"#{i.ToString(CultureInfo.InvariantCulture)} " : "";
        var state = device.Status == DeviceRunStatus.TimedOut ? "timed out" : "failed";
        return $"{index}{device.DeviceId} {state}: {device.FailureReason ?? "no reason given"}";
    }

    /// <summary>The run's one-line header: <c>Run 3f… login-and-capture v3 · running · 1m05s</c>.</summary>
    public static string Header(RunSummary run, DateTimeOffset now)
    {
        var what = run.WorkflowName is { } name ? $"{name}{(run.Version is { } v ? $" v{v.ToString(CultureInfo.InvariantCulture)}" : "")}"
            : run.PlaybookId is { } p ? $"playbook {p}" : $"workflow {run.WorkflowId}";
        var elapsed = run.StartedAt is { } started ? $" · {Formatting.Elapsed((run.FinishedAt ?? now) - started)}" : "";
        return $"Run {run.RunId} {what} · {run.Status}{elapsed}";
    }

    /// <summary>The live block redrawn on a terminal: header, counts, bar, grid, legend.</summary>
    public static IReadOnlyList<string> Frame(RunDetail detail, DateTimeOffset now, int columns = GridColumns, int maxGridRows = int.MaxValue) =>
    [
        Header(detail.Run, now),
        CountsLine(detail.Run.Counts),
        ProgressBar(detail.Run.Counts),
        .. Grid(detail.Devices, columns, maxGridRows),
        Legend,
    ];

    /// <summary>The line printed when output is redirected and the counts changed.</summary>
    public static string PlainLine(RunDetail detail, DateTimeOffset now) =>
        $"{now.ToUniversalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {detail.Run.Status} {Math.Min(detail.Run.Counts.Terminal, detail.Run.Counts.Total).ToString(CultureInfo.InvariantCulture)}/{detail.Run.Counts.Total.ToString(CultureInfo.InvariantCulture)} ended  {NonZeroCounts(detail.Run.Counts)}";

    /// <summary>The closing line: <c>Run … succeeded: 48 succeeded, 2 skipped_offline of 50 devices in 1m12s.</c></summary>
    public static string Summary(RunSummary run, DateTimeOffset now)
    {
        var took = run.StartedAt is { } started ? $" in {Formatting.Elapsed((run.FinishedAt ?? now) - started)}" : "";
        var counts = string.Join(", ", States.Where(s => s.Count(run.Counts) > 0).Select(s => $"{s.Count(run.Counts).ToString(CultureInfo.InvariantCulture)} {s.Status}"));
        return $"Run {run.RunId} {run.Status}: {(counts.Length == 0 ? "no devices" : counts)} of {run.Counts.Total.ToString(CultureInfo.InvariantCulture)} devices{took}.";
    }
}
