using Harness.Contracts.Agents;
using Harness.Contracts.Workspaces;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Agents;
using Harness.Server.Http;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Workspaces;

/// <summary>
/// Chooses the agent a workspace runs on (DESIGN §6): the requested agent, else the least-loaded active
/// agent under capacity whose region matches and whose labels hold every requested label. Call it under
/// <see cref="HarnessLock.Workspaces"/> and keep the lock until the workspace row is written, so two
/// placements never take the same free slot.
/// </summary>
internal static class WorkspacePlacement
{
    /// <summary>
    /// An agent's load: the workspaces placed on it that still hold resources there (all but archived ones).
    /// Computed, not stored, so it can never drift from the rows it counts.
    /// </summary>
    public static async Task<Dictionary<Guid, int>> LoadsAsync(HarnessDbContext db, CancellationToken cancellationToken) =>
        await db.Workspaces.AsNoTracking()
            .Where(w => w.AgentId != null && w.Status != WorkspaceStatus.Archived)
            .GroupBy(w => w.AgentId!.Value)
            .Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);

    /// <summary>Whether <paramref name="agent"/> can take one more workspace; null when it can, else why not.</summary>
    public static string? Unfit(AgentEntity agent, int load)
    {
        if (agent.Status != AgentStatuses.Active)
        {
            return $"agent '{agent.Name}' is {agent.Status}{(agent.LastErrorMessage is null ? "" : $" ({agent.LastErrorMessage})")}";
        }
        if (!AgentFields.RunsWorkspaces(agent.Runtimes))
        {
            return $"agent '{agent.Name}' has no workspace runtime ({string.Join(", ", RuntimeNames.Workspace)}); it runs [{agent.Runtimes}]";
        }
        if (agent.Endpoint is null)
        {
            return $"agent '{agent.Name}' has not reported its Runtime Agent API endpoint yet";
        }
        if (load >= agent.Capacity)
        {
            return $"agent '{agent.Name}' is full ({load} of {agent.Capacity} workspaces)";
        }
        return null;
    }

    /// <summary>The agent named by <paramref name="agentRef"/> (id or name), or a problem naming agent_id.</summary>
    public static async Task<(AgentEntity? Agent, ProblemHttpResult? Problem)> NamedAsync(HarnessDbContext db, string agentRef, CancellationToken cancellationToken)
    {
        var agent = Guid.TryParse(agentRef, out var id)
            ? await db.Agents.SingleOrDefaultAsync(a => a.Id == id, cancellationToken)
            : await db.Agents.SingleOrDefaultAsync(a => a.Name == agentRef, cancellationToken);
        if (agent is null)
        {
            return (null, Problems.Field(StatusCodes.Status404NotFound, "Not found", "agent_id", $"no agent '{agentRef}' (GET /api/agents lists them)"));
        }
        var loads = await LoadsAsync(db, cancellationToken);
        return Unfit(agent, loads.GetValueOrDefault(agent.Id)) is { } why
            ? (null, Problems.Conflict("agent_id", $"{why}; choose another agent or leave agent_id out to let the server place the workspace"))
            : (agent, null);
    }

    /// <summary>The least-loaded fitting agent, or a 409 problem saying what was asked for.</summary>
    public static async Task<(AgentEntity? Agent, ProblemHttpResult? Problem)> ChooseAsync(
        HarnessDbContext db, string? region, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        var loads = await LoadsAsync(db, cancellationToken);
        var agents = await db.Agents.Where(a => a.Status == AgentStatuses.Active && a.Endpoint != null).ToListAsync(cancellationToken);
        var chosen = agents
            .Where(a => Unfit(a, loads.GetValueOrDefault(a.Id)) is null)
            .Where(a => region is null || string.Equals(a.Region, region, StringComparison.Ordinal))
            .Where(a => Matches(AgentFields.DeserializeLabels(a.Labels), labels))
            .OrderBy(a => loads.GetValueOrDefault(a.Id))
            .ThenByDescending(a => a.Capacity - loads.GetValueOrDefault(a.Id))
            .ThenBy(a => a.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        if (chosen is not null)
        {
            return (chosen, null);
        }
        var wanted = $"region={region ?? "any"} labels={(labels.Count == 0 ? "{}" : string.Join(",", labels.Select(l => $"{l.Key}={l.Value}")))}";
        return (null, Problems.Field(StatusCodes.Status409Conflict, "No capacity", "placement",
            $"no agent has capacity for {wanted}: every active workspace agent that matches is full or none matches (add capacity or agents, or relax region/labels)"));
    }

    private static bool Matches(IReadOnlyDictionary<string, string> agentLabels, IReadOnlyDictionary<string, string> wanted) =>
        wanted.All(w => agentLabels.TryGetValue(w.Key, out var value) && value == w.Value);
}
