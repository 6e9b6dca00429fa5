using Harness.Contracts.Devices;
using Harness.Contracts.Nodes;
using Harness.Contracts.Runs;

namespace Harness.Server.Console.Shared;

/// <summary>One heatmap cell: a device by index_no, its state as a CSS class and as words.</summary>
public sealed record HeatCell(string Key, string Text, string StateClass, string StateText, string? Tag = null, bool ErrorBorder = false, string? Detail = null)
{
    public string Label => $"Device {Text}: {StateText}{(Tag is null ? "" : $", {Tag}")}{(Detail is null ? "" : $" — {Detail}")}";

    public static string CellText(int? indexNo, string deviceId) => indexNo?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? deviceId;

    /// <summary>A device as the fleet sees it: Online / Offline, busy, quarantined.</summary>
    public static HeatCell ForDevice(DeviceView d) =>
        d.QuarantinedAt is not null ? new(d.DeviceId, CellText(d.IndexNo, d.DeviceId), "s-quarantined", "Quarantined", "QUAR", true, d.DeviceId)
        : d.Status == OnlineStatus.Offline ? new(d.DeviceId, CellText(d.IndexNo, d.DeviceId), "s-offline", "Offline", "OFF", false, d.DeviceId)
        : d.State == "busy" ? new(d.DeviceId, CellText(d.IndexNo, d.DeviceId), "s-busy", "Online, busy", "BUSY", false, d.DeviceId)
        : new(d.DeviceId, CellText(d.IndexNo, d.DeviceId), "s-online", "Online", null, false, d.DeviceId);

    public static readonly IReadOnlyList<(string Class, string Text)> DeviceLegend =
        [("s-online", "Online"), ("s-busy", "Busy"), ("s-offline", "Offline"), ("s-quarantined", "Quarantined")];

    /// <summary>A device in a run: WAIT 15s while the agent waits for it, SKIPPED(offline), an error border on failure.</summary>
    public static HeatCell ForRunDevice(RunDeviceView d, int graceSeconds) => new(
        d.DeviceId, CellText(d.IndexNo, d.DeviceId), $"s-{d.Status}", RunStateText(d.Status),
        d.Status switch
        {
            DeviceRunStatus.SkippedOffline => "SKIPPED(offline)",
            DeviceRunStatus.Waiting => $"WAIT {graceSeconds}s",
            DeviceRunStatus.Failed or DeviceRunStatus.TimedOut => "ERROR",
            _ => null,
        },
        d.Status is DeviceRunStatus.Failed or DeviceRunStatus.TimedOut,
        d.FailureReason is null ? d.DeviceId : $"{d.DeviceId}, {d.FailureReason}");

    public static string RunStateText(string status) => status switch
    {
        DeviceRunStatus.Queued => "Queued",
        DeviceRunStatus.Dispatched => "Dispatched",
        DeviceRunStatus.Preflight => "Preflight",
        DeviceRunStatus.Running => "Running",
        DeviceRunStatus.Waiting => "Waiting for the device",
        DeviceRunStatus.Succeeded => "Succeeded",
        DeviceRunStatus.Failed => "Failed",
        DeviceRunStatus.TimedOut => "Timed out",
        DeviceRunStatus.Cancelled => "Cancelled",
        DeviceRunStatus.SkippedOffline => "Skipped (offline)",
        _ => status,
    };

    public static readonly IReadOnlyList<(string Class, string Text)> RunLegend =
        [("s-queued", "Queued"), ("s-running", "Running"), ("s-waiting", "WAIT (grace)"), ("s-succeeded", "Succeeded"),
         ("s-failed error-border", "Failed / timed out"), ("s-cancelled", "Cancelled"), ("s-skipped_offline", "SKIPPED(offline)")];
}
