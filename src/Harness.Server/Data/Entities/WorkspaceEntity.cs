namespace Harness.Server.Data.Entities;

public sealed class WorkspaceEntity
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public required string Image { get; set; }
    public Guid? AgentId { get; set; }
    public string? Volume { get; set; }
    /// <summary>pending, starting, running, stopping, stopped, archiving, archived, restoring, error.</summary>
    public required string Status { get; set; }
    public string? Upstream { get; set; }
    public string? Region { get; set; }
    public string Labels { get; set; } = "{}";
    public string? LastErrorMessage { get; set; }
    /// <summary>When the current transitional state must have ended; the reconciler acts after it.</summary>
    public DateTimeOffset? StateDeadlineAt { get; set; }
    public DateTimeOffset? LastActivityAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
