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
}
