namespace Harness.Server.Data.Entities;

/// <summary>
/// A workspace volume as a tar.gz in the artifact store. The row exists (pending) before the agent
/// uploads it, so the server accepts an upload only for an archive it asked that agent for.
/// </summary>
public sealed class WorkspaceArchiveEntity
{
    public Guid Id { get; set; }
    public Guid WorkspaceId { get; set; }
    /// <summary>The agent asked to upload it.</summary>
    public Guid AgentId { get; set; }
    /// <summary>The agent a restore is placed on: the only one that may download it.</summary>
    public Guid? RestoreAgentId { get; set; }
    public Guid? JobId { get; set; }
    /// <summary>pending (asked for), stored (uploaded whole).</summary>
    public required string Status { get; set; }
    public long? Bytes { get; set; }
    public string? Sha256 { get; set; }
    /// <summary><c>workspaces/{workspace_id}/{archive_id}.tar.gz</c> in the artifact store.</summary>
    public required string StoragePath { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StoredAt { get; set; }
}

public static class WorkspaceArchiveStatus
{
    public const string Pending = "pending";
    public const string Stored = "stored";
}
