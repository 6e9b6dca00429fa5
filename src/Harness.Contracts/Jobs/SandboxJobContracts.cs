namespace Harness.Contracts.Jobs;

/// <summary>
/// <c>POST /api/jobs</c>: run <see cref="Command"/> in a hardened sandbox on an agent with the <c>sandbox</c> runtime.
/// Omitted limits take the server's defaults. <see cref="Secrets"/> reach the command as environment variables and
/// are never stored in clear, logged, or returned.
/// </summary>
public sealed record CreateJobRequest(
    string? Type,
    string? Image,
    IReadOnlyList<string>? Command,
    string? WorkspaceId = null,
    IReadOnlyDictionary<string, string>? Env = null,
    IReadOnlyDictionary<string, string>? Secrets = null,
    string? Network = null,
    int? TimeoutS = null,
    double? Cpu = null,
    int? MemoryMb = null,
    int? Pids = null,
    bool? SshAgent = null,
    IReadOnlyList<string>? Artifacts = null,
    Guid? AgentId = null);

public static class JobTypeNames
{
    public const string Sandbox = "sandbox";
    public const string Archive = "archive";
    public const string Restore = "restore";
}

/// <summary>Every status a job goes through.</summary>
public static class JobStatusNames
{
    public const string Queued = "queued";
    public const string Dispatched = "dispatched";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string TimedOut = "timed_out";
    public const string Canceled = "canceled";

    public static readonly IReadOnlyList<string> Terminal = [Succeeded, Failed, TimedOut, Canceled];

    public static bool IsTerminal(string status) => Terminal.Contains(status);
}

public static class JobNetworks
{
    public const string None = "none";
    public const string Egress = "egress";
}

/// <summary>The sandbox job's request as stored and shown: everything but secret values.</summary>
public sealed record SandboxJobSpec(
    string Image,
    IReadOnlyList<string> Command,
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyList<string> SecretNames,
    string Network,
    int TimeoutS,
    double Cpu,
    int MemoryMb,
    int Pids,
    bool SshAgent,
    IReadOnlyList<string> Artifacts);

/// <summary><c>GET /api/jobs/{id}</c>.</summary>
public sealed record JobDetail(
    Guid Id,
    string Type,
    string Status,
    string? Reason,
    Guid? AgentId,
    string? Backend,
    string? WorkspaceId,
    SandboxJobSpec? Spec,
    int? ExitCode,
    string? LastErrorMessage,
    bool CancelRequested,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    DateTimeOffset? DeadlineAt,
    string? CreatedBy,
    IReadOnlyList<JobArtifactView> Artifacts);

/// <summary>A file the job left, downloadable at <see cref="Url"/>.</summary>
public sealed record JobArtifactView(Guid Id, string Name, long Size, string Sha256, string Url);

/// <summary>One line of a job's output, as <c>GET /api/jobs/{id}/logs?format=ndjson</c> streams it.</summary>
public sealed record JobLogLine(long Seq, string Stream, string Text, DateTimeOffset At);

public static class JobLogStreams
{
    public const string Stdout = "stdout";
    public const string Stderr = "stderr";
    /// <summary>Lines the agent writes about the job (timeouts, kills, limits).</summary>
    public const string System = "system";
}

// Agent ⇄ server.

/// <summary>
/// <c>POST /api/nodes/jobs/claim</c>: long-polls for up to <see cref="Max"/> sandbox jobs, renews the leases of
/// <see cref="Running"/> and learns which of them to cancel.
/// </summary>
public sealed record ClaimJobsRequest(int? Max, int? WaitMs = null, IReadOnlyList<Guid>? Running = null);

public sealed record ClaimJobsResponse(IReadOnlyList<ClaimedJob> Jobs, IReadOnlyList<Guid> Cancel, int LeaseSeconds);

/// <summary>A job handed to an agent, with its secrets (only ever sent here).</summary>
public sealed record ClaimedJob(
    Guid JobId,
    SandboxJobSpec Spec,
    IReadOnlyDictionary<string, string> Secrets,
    string? WorkspaceId,
    string? WorkspaceVolume);

/// <summary><c>POST /api/nodes/jobs/{id}/events</c>: the job started and/or more output; idempotent by line seq.</summary>
public sealed record JobEventsRequest(bool? Started = null, string? Backend = null, IReadOnlyList<JobLogLine>? Logs = null);

public sealed record JobEventsResponse(bool CancelRequested);

/// <summary><c>POST /api/nodes/jobs/{id}/complete</c>: how it ended; the first report wins, repeats are answered the same.</summary>
public sealed record CompleteJobRequest(
    string? Status,
    string? Reason,
    int? ExitCode = null,
    string? Message = null,
    DateTimeOffset? StartedAt = null,
    DateTimeOffset? FinishedAt = null);
