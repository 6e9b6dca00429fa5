using Harness.Contracts.Agents;
using Harness.Server.Data.Entities;

namespace Harness.Server.Features.Agents;

internal static class AgentViews
{
    public static AgentView ToView(this AgentEntity agent, DateTimeOffset onlineSince, int deviceCount) => new(
        agent.Id,
        agent.Name,
        agent.Status,
        agent.LastSeen >= onlineSince,
        agent.LastSeen,
        agent.Version,
        agent.VendorWsOk,
        AgentFields.SplitRuntimes(agent.Runtimes),
        agent.Capacity,
        agent.CurrentLoad,
        agent.Region,
        AgentFields.DeserializeLabels(agent.Labels),
        agent.Endpoint,
        deviceCount,
        agent.KeyRevokedAt is not null,
        agent.CreatedAt);
}
