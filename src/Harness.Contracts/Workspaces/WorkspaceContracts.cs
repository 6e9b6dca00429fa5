namespace Harness.Contracts.Workspaces;

/// <summary>
/// <c>POST /api/workspaces</c>: a long-lived workspace (an instance of <see cref="Image"/> with a volume),
/// placed on <see cref="AgentId"/> when given, else on the least-loaded agent matching region and labels.
/// </summary>
public sealed record CreateWorkspaceRequest(
    string? Name,
    string? Image,
    /// <summary>An agent's id or name; absent lets the server place the workspace.</summary>
    string? AgentId = null,
    string? Region = null,
    IReadOnlyDictionary<string, string>? Labels = null,
    /// <summary>The port the image serves on inside the instance (default 8080).</summary>
    int? Port = null,
    double? Cpu = null,
    int? MemoryMb = null,
    IReadOnlyDictionary<string, string>? Env = null);

/// <summary><c>POST /api/workspaces/{id}/restore</c>.</summary>
public sealed record RestoreWorkspaceRequest(bool? Start = null);

public sealed record WorkspaceView(
    Guid Id,
    string Name,
    string Image,
    string Status,
    Guid? AgentId,
    string? AgentName,
    string? Upstream,
    string? Region,
    IReadOnlyDictionary<string, string> Labels,
    int Port,
    double? Cpu,
    int? MemoryMb,
    IReadOnlyList<string> EnvKeys,
    Guid? ArchiveId,
    DateTimeOffset? ArchivedAt,
    string? LastErrorMessage,
    DateTimeOffset? StateDeadlineAt,
    DateTimeOffset? LastActivityAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>A workspace's states (docs/workspaces.md has the diagram).</summary>
public static class WorkspaceStatus
{
    public const string Pending = "pending";
    public const string Starting = "starting";
    public const string Running = "running";
    public const string Stopping = "stopping";
    public const string Stopped = "stopped";
    public const string Archiving = "archiving";
    public const string Archived = "archived";
    public const string Restoring = "restoring";
    public const string Deleting = "deleting";
    public const string Error = "error";

    public static readonly IReadOnlyList<string> All = [Pending, Starting, Running, Stopping, Stopped, Archiving, Archived, Restoring, Deleting, Error];

    /// <summary>States an operation is under way in; each has a deadline the reconciler enforces.</summary>
    public static bool IsTransitional(string status) =>
        status is Pending or Starting or Stopping or Archiving or Restoring or Deleting;
}
