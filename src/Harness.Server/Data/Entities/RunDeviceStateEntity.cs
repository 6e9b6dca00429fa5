namespace Harness.Server.Data.Entities;

/// <summary>One row per targeted device of a run: its state, lease and timings.</summary>
public sealed class RunDeviceStateEntity
{
    public Guid RunId { get; set; }
    public required string DeviceId { get; set; }
    public Guid? AgentId { get; set; }
    /// <summary>queued, skipped_offline, preflight, running, waiting, succeeded, failed, timed_out, cancelled.</summary>
    public required string Status { get; set; }
    public string? FailureReason { get; set; }
    public int Attempt { get; set; }
    /// <summary>The compiled workflow this device runs (a playbook compiles one per device).</summary>
    public string? CompiledWorkflow { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseExpiresAt { get; set; }
    /// <summary>When the server itself times the task out if the agent has not (its hard deadline plus a margin).</summary>
    public DateTimeOffset? DeadlineAt { get; set; }
    /// <summary>The node (agent name) the device belonged to when the run was created; used in artifact paths.</summary>
    public string? NodeId { get; set; }
    public DateTimeOffset QueuedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
