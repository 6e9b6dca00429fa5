namespace Harness.Contracts.Runs;

/// <summary>
/// <c>POST /api/runs</c>: run a workflow version (latest when <see cref="Version"/> is null) or a
/// playbook on a target. Exactly one of <see cref="WorkflowId"/> and <see cref="PlaybookId"/>.
/// </summary>
public sealed record CreateRunRequest(
    Guid? WorkflowId = null,
    Guid? PlaybookId = null,
    int? Version = null,
    RunTarget? Target = null,
    int? Concurrency = null,
    IReadOnlyDictionary<string, string>? Vars = null,
    string? Subject = null,
    long? Seed = null);

/// <summary>Which devices a run targets; exactly one member is set.</summary>
public sealed record RunTarget(
    bool? All = null,
    IReadOnlyList<string>? NodeIds = null,
    IReadOnlyList<string>? DeviceIds = null,
    string? IndexRange = null,
    IReadOnlyDictionary<string, string>? Labels = null);

public sealed record RunCreatedResponse(
    Guid RunId,
    Guid? WorkflowId,
    int? Version,
    Guid? PlaybookId,
    long? Seed,
    string Status,
    RunCounts Counts);

/// <summary>How many of a run's devices are in each state.</summary>
public sealed record RunCounts(
    int Total,
    int Queued,
    int Dispatched,
    int Preflight,
    int Running,
    int Waiting,
    int Succeeded,
    int Failed,
    int TimedOut,
    int Cancelled,
    int SkippedOffline)
{
    public int Terminal => Succeeded + Failed + TimedOut + Cancelled + SkippedOffline;
}

public sealed record RunSummary(
    Guid RunId,
    Guid? WorkflowId,
    string? WorkflowName,
    int? Version,
    Guid? PlaybookId,
    long? Seed,
    string Status,
    RunCounts Counts,
    int Concurrency,
    string? Subject,
    string? CreatedBy,
    string? LastErrorMessage,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt);

/// <summary><c>GET /api/runs/{runId}</c>.</summary>
public sealed record RunDetail(
    RunSummary Run,
    RunTarget Target,
    IReadOnlyDictionary<string, string> Vars,
    IReadOnlyList<RunDeviceView> Devices);

public sealed record RunDeviceView(
    string DeviceId,
    int? IndexNo,
    string NodeId,
    string Status,
    string? FailureReason,
    int Attempt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyList<RunStepView> Steps,
    IReadOnlyList<ArtifactView> Artifacts);

public sealed record RunStepView(
    string StepId,
    string Type,
    int Attempt,
    string Status,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    long? DurationMs,
    string? Output,
    string? Error);

public sealed record ArtifactView(
    Guid Id,
    string Kind,
    string? ContentType,
    long Size,
    string Sha256,
    string Path,
    string? StepId,
    DateTimeOffset CreatedAt,
    string Url);

/// <summary>A run's status. A run ends when every device is terminal.</summary>
public static class RunStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    /// <summary>Every device ended; none failed or timed out (skipped devices do not fail a run).</summary>
    public const string Succeeded = "succeeded";
    /// <summary>Every device ended; at least one failed or timed out.</summary>
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsTerminal(string status) => status is Succeeded or Failed or Cancelled;
}

/// <summary>The state of one device in one run (run_device_states.status).</summary>
public static class DeviceRunStatus
{
    public const string Queued = "queued";
    /// <summary>Leased to an agent, not started yet; re-dispatched if the lease lapses.</summary>
    public const string Dispatched = "dispatched";
    public const string SkippedOffline = "skipped_offline";
    public const string Preflight = "preflight";
    public const string Running = "running";
    /// <summary>The device stopped answering; the agent waits the grace period for it.</summary>
    public const string Waiting = "waiting";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string TimedOut = "timed_out";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> All =
        [Queued, Dispatched, SkippedOffline, Preflight, Running, Waiting, Succeeded, Failed, TimedOut, Cancelled];

    public static bool IsTerminal(string status) => status is SkippedOffline or Succeeded or Failed or TimedOut or Cancelled;

    /// <summary>Started on the device: a lapsed lease fails it as node_lost instead of re-dispatching it.</summary>
    public static bool IsStarted(string status) => status is Preflight or Running or Waiting;

    /// <summary>Holds the device: no other task may be dispatched to it.</summary>
    public static bool IsActive(string status) => status is Dispatched or Preflight or Running or Waiting;
}

/// <summary>Well-known failure_reason values; agents may send others (lower_snake_case).</summary>
public static class FailureReasons
{
    public const string Offline = "offline";
    public const string Quarantined = "quarantined";
    public const string NodeLost = "node_lost";
    public const string PreflightFailed = "preflight_failed";
    public const string EmulatorUnhealthy = "emulator_unhealthy";
    public const string DeviceUnresponsive = "device_unresponsive";
    public const string StepFailed = "step_failed";
    public const string StepTimeout = "step_timeout";
    public const string TaskTimeout = "task_timeout";
    public const string UploadFailed = "upload_failed";
    public const string Cancelled = "cancelled";
    public const string AgentShutdown = "agent_shutdown";
}
