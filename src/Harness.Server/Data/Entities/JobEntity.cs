namespace Harness.Server.Data.Entities;

/// <summary>A generic unit of work: a sandbox job, an archive or restore, a scan.</summary>
public sealed class JobEntity
{
    public Guid Id { get; set; }
    public required string Type { get; set; }
    public required string Status { get; set; }
    public Guid? AgentId { get; set; }
    public string? WorkspaceId { get; set; }
    /// <summary>JSON request as accepted (secrets removed).</summary>
    public string Spec { get; set; } = "{}";
    public string? Result { get; set; }
    public int? ExitCode { get; set; }
    public string? LastErrorMessage { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset? DeadlineAt { get; set; }
    /// <summary>Why it ended: exit, oom_killed, timeout, canceled, image_not_found, agent_lost, error.</summary>
    public string? Reason { get; set; }
    /// <summary>The sandbox backend that ran it (docker, bubblewrap).</summary>
    public string? Backend { get; set; }
    /// <summary>The claiming agent holds the job until then; it renews the lease while the job runs.</summary>
    public DateTimeOffset? LeaseUntil { get; set; }
    public DateTimeOffset? CancelRequestedAt { get; set; }
    /// <summary>The job's secrets, sealed (AES-GCM) under a key derived from the server's runtime secret; dropped when the job ends.</summary>
    public string? SecretsSealed { get; set; }
    /// <summary>The next log line number; bumped as lines arrive.</summary>
    public long LogLines { get; set; }
}
