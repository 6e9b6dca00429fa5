using Harness.Contracts.Nodes;
using Harness.Contracts.Workflows;

namespace Harness.Contracts.Dispatch;

/// <summary>
/// <c>POST /api/nodes/pull</c>: the agent asks for up to <see cref="FreeSlots"/> tasks, waiting up to
/// <see cref="WaitMs"/> when there are none, and renews the leases of the tasks it <see cref="Holds"/>.
/// </summary>
public sealed record PullRequest(
    int? FreeSlots = null,
    int? WaitMs = null,
    IReadOnlyList<TaskRef>? Holds = null);

/// <summary>A task is one device of one run at one dispatch attempt.</summary>
public sealed record TaskRef(Guid RunId, string DeviceId, int Attempt);

/// <summary>
/// <c>POST /api/nodes/release</c>: a stopping agent hands back leased tasks it never started, so they
/// are queued again at once instead of waiting for their leases to run out.
/// </summary>
public sealed record ReleaseRequest(IReadOnlyList<TaskRef>? Tasks = null);

/// <summary>How many of the handed-back tasks were queued again (the rest had moved on already).</summary>
public sealed record ReleaseResponse(int Released);

/// <summary>The agent's new tasks; <c>Cancel</c> lists held tasks it must stop (cancelled, or no longer leased to it).</summary>
public sealed record PullResponse(
    IReadOnlyList<DeviceTask> Tasks,
    IReadOnlyList<TaskRef> Cancel,
    IReadOnlyList<ScanOrder> Scans,
    int LeaseSec,
    DateTimeOffset ServerTime);

/// <summary>One device's work, compiled: every variable resolved, every timeout set.</summary>
public sealed record DeviceTask(
    Guid RunId,
    string DeviceId,
    string? RuntimeHandle,
    int? IndexNo,
    int Attempt,
    DateTimeOffset LeaseExpiresAt,
    int RunConcurrency,
    string Subject,
    WorkflowDefinition Workflow,
    int StepTimeoutMs,
    int UploadTimeoutMs,
    DateTimeOffset DeadlineAt);

/// <summary>A device scan the agent must carry out and report with a <c>scan.result</c> callback.</summary>
public sealed record ScanOrder(Guid ScanId);

/// <summary><c>POST /api/nodes/callback</c> with a batch; a single event may be posted bare.</summary>
public sealed record CallbackBatch(IReadOnlyList<CallbackEvent>? Events);

/// <summary>
/// One event from an agent, idempotent by <see cref="EventId"/>. <see cref="Type"/> is
/// <c>device.status</c> (with <see cref="Status"/>), <c>step</c> (with <see cref="Step"/>) or
/// <c>scan.result</c> (with <see cref="ScanId"/> and <see cref="Devices"/>).
/// </summary>
public sealed record CallbackEvent(
    string? EventId,
    string? Type,
    DateTimeOffset? At = null,
    Guid? RunId = null,
    string? DeviceId = null,
    int? Attempt = null,
    string? Status = null,
    string? FailureReason = null,
    string? Message = null,
    StepReport? Step = null,
    Guid? ScanId = null,
    IReadOnlyList<DeviceReport>? Devices = null);

public sealed record StepReport(
    string? StepId,
    string? Type,
    string? Status,
    int? Attempt = null,
    DateTimeOffset? StartedAt = null,
    DateTimeOffset? FinishedAt = null,
    long? DurationMs = null,
    string? Output = null,
    string? Error = null);

public static class CallbackTypes
{
    public const string DeviceStatus = "device.status";
    public const string Step = "step";
    public const string ScanResult = "scan.result";
}

public static class StepStatus
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Skipped = "skipped";
    public const string TimedOut = "timed_out";
}

public sealed record CallbackResponse(int Accepted, int Duplicates, int Ignored, IReadOnlyList<CallbackResult> Results);

/// <summary>Per event: <c>accepted</c>, <c>duplicate</c> (seen before; nothing changed) or <c>ignored</c> (stale; nothing changed).</summary>
public sealed record CallbackResult(string EventId, string Outcome, string? Reason = null);

/// <summary>
/// <c>POST /api/nodes/artifacts?event_id=&amp;run_id=&amp;device_id=&amp;step_id=&amp;kind=screenshot</c> with
/// the file as the body; idempotent by event_id.
/// </summary>
public static class ArtifactUpload
{
    public const string EventId = "event_id";
    public const string RunId = "run_id";
    public const string DeviceId = "device_id";
    public const string StepId = "step_id";
    public const string Attempt = "attempt";
    public const string Kind = "kind";
    public const string TakenAt = "taken_at";
}

/// <summary><c>POST /api/nodes/scan</c> (operator): scan one node, or every node when <see cref="NodeId"/> is null.</summary>
public sealed record ScanRequest(string? NodeId = null);

public sealed record ScanJobView(
    Guid ScanId,
    string NodeId,
    string Status,
    ScanResultView? Result,
    string? LastErrorMessage,
    DateTimeOffset RequestedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt);

public sealed record ScanResultView(int Found, IReadOnlyList<string> Added, IReadOnlyList<string> Missing, IReadOnlyList<ScannedDevice> Devices);

public sealed record ScannedDevice(string DeviceId, int? IndexNo, string? Model, string? State);

public static class ScanStatus
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}
