using Harness.Contracts.Workspaces;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Agents;

namespace Harness.Server.Features.Workspaces;

internal static class WorkspaceViews
{
    /// <summary>The id runtimes know the workspace by: its Guid, lowercase "D" format (a DNS label of 36 characters).</summary>
    public static string RuntimeId(this WorkspaceEntity workspace) => workspace.Id.ToString("D");

    public static WorkspaceView ToView(this WorkspaceEntity w, string? agentName) => new(
        w.Id,
        w.Name,
        w.Image,
        w.Status,
        w.AgentId,
        agentName,
        w.Upstream,
        w.Region,
        AgentFields.DeserializeLabels(w.Labels),
        w.Port,
        w.Cpu,
        w.MemoryMb,
        // Values may be secrets: the view shows only the names.
        WorkspaceFields.DeserializeEnv(w.Env).Keys.Order(StringComparer.Ordinal).ToList(),
        w.ArchiveId,
        w.ArchivedAt,
        w.LastErrorMessage,
        w.StateDeadlineAt,
        w.LastActivityAt,
        w.CreatedAt,
        w.UpdatedAt);
}
