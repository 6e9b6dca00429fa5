using Harness.Contracts.Runs;

namespace Harness.Cli.Tests.Operator;

/// <summary>Builds run snapshots as the server would answer them, counts derived from the devices.</summary>
internal static class RunData
{
    public static readonly Guid RunId = Guid.Parse("3f2b1c4d-0000-4000-8000-000000000001");
    public static readonly Guid WorkflowId = Guid.Parse("9a8b7c6d-0000-4000-8000-000000000002");

    public static RunDeviceView Device(int? index, string status, string? reason = null, string? id = null, string node = "PC-01", int steps = 0, int artifacts = 0) =>
        new(id ?? $"SIM-{index:0000}", index, node, status, reason, 1, null, null,
            [.. Enumerable.Range(0, steps).Select(i => new RunStepView($"s{i}", "tap", 1, "succeeded", null, null, 10, null, null))],
            [.. Enumerable.Range(0, artifacts).Select(i => new ArtifactView(Guid.NewGuid(), "screenshot", "image/png", 100, "abc", "p", "shot", CliRunner.Start, "/api/artifacts/x"))]);

    public static RunCounts Counts(IEnumerable<RunDeviceView> devices)
    {
        var list = devices.ToList();
        int N(string s) => list.Count(d => d.Status == s);
        return new RunCounts(list.Count, N(DeviceRunStatus.Queued), N(DeviceRunStatus.Dispatched), N(DeviceRunStatus.Preflight), N(DeviceRunStatus.Running),
            N(DeviceRunStatus.Waiting), N(DeviceRunStatus.Succeeded), N(DeviceRunStatus.Failed), N(DeviceRunStatus.TimedOut), N(DeviceRunStatus.Cancelled),
            N(DeviceRunStatus.SkippedOffline));
    }

    public static RunSummary Summary(string status, RunCounts counts) =>
        new(RunId, WorkflowId, "login-and-capture", 3, null, null, status, counts, 20, null, "admin", null, CliRunner.Start, CliRunner.Start, RunStatus.IsTerminal(status) ? CliRunner.Start.AddSeconds(72) : null);

    public static RunDetail Detail(string status, params RunDeviceView[] devices) =>
        new(Summary(status, Counts(devices)), new RunTarget(All: true), new Dictionary<string, string> { ["user"] = "alice" }, devices);

    /// <summary>Fifty devices: <paramref name="states"/> for the first ones, the rest queued.</summary>
    public static RunDeviceView[] Fleet(int total, params (int Index, string Status, string? Reason)[] states) =>
        [.. Enumerable.Range(1, total).Select(i => states.FirstOrDefault(s => s.Index == i) is { Status: not null } s ? Device(i, s.Status, s.Reason) : Device(i, DeviceRunStatus.Queued))];
}
