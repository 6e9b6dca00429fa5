namespace Harness.Server.Data.Entities;

public sealed class WorkspaceEntity
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public required string Image { get; set; }
    public Guid? AgentId { get; set; }
    public string? Volume { get; set; }
    /// <summary>pending, starting, running, stopping, stopped, archiving, archived, restoring, deleting, error.</summary>
    public required string Status { get; set; }
    public string? Upstream { get; set; }
    public string? Region { get; set; }
    public string Labels { get; set; } = "{}";
    /// <summary>The port the image serves on inside the instance.</summary>
    public int Port { get; set; } = 8080;
    public double? Cpu { get; set; }
    public int? MemoryMb { get; set; }
    /// <summary>JSON object of environment variables passed to the instance, or null.</summary>
    public string? Env { get; set; }
    /// <summary>The workspace's latest archive (set by archive, kept after restore).</summary>
    public Guid? ArchiveId { get; set; }
    public DateTimeOffset? ArchivedAt { get; set; }
    /// <summary>
    /// Set when the health checker put the workspace in error because its agent stopped answering;
    /// the checker settles exactly these workspaces again when the agent comes back.
    /// </summary>
    public bool ErrorFromHealthCheck { get; set; }
    public string? LastErrorMessage { get; set; }
    /// <summary>When the current transitional state must have ended; the reconciler acts after it.</summary>
    public DateTimeOffset? StateDeadlineAt { get; set; }
    /// <summary>Last proxy traffic (and start); idle auto-stop reads it.</summary>
    public DateTimeOffset? LastActivityAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
