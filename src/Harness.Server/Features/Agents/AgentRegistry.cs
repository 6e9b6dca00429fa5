using Harness.Contracts.Agents;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Audit;
using Harness.Server.Security;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Agents;

/// <summary>Creates agents and issues their keys; shared by admin registration and self-enrollment.</summary>
public sealed class AgentRegistry(HarnessDbContext db, TimeProvider time, Security.AgentKeyCache keys)
{
    public Task<bool> NameTakenAsync(string name, CancellationToken cancellationToken) =>
        db.Agents.AnyAsync(a => a.Name == name, cancellationToken);

    public async Task<AgentCredentialResponse> CreateAsync(
        string name,
        IReadOnlyList<string>? runtimes,
        int? capacity,
        string? region,
        IReadOnlyDictionary<string, string>? labels,
        string? endpoint,
        string? version,
        string actor,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var key = SecretKeys.Generate(SecretKeys.AgentPrefix);
        var agent = new AgentEntity
        {
            Id = Guid.CreateVersion7(now),
            Name = name,
            ApiKeyId = key.Id,
            ApiKeyHash = key.Hash,
            Status = AgentStatuses.Active,
            Runtimes = AgentFields.JoinRuntimes(runtimes),
            Capacity = capacity ?? 0,
            Region = region,
            Labels = AgentFields.SerializeLabels(labels),
            Endpoint = endpoint,
            Version = version,
            CreatedAt = now,
        };
        db.Agents.Add(agent);
        AuditLog.Record(db, now, actor, "agent.registered", name);
        await db.SaveChangesAsync(cancellationToken);
        return new AgentCredentialResponse(agent.ToView(now, 0), key.Full);
    }

    public async Task<AgentCredentialResponse> RotateKeyAsync(AgentEntity agent, string actor, int deviceCount, DateTimeOffset onlineSince, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var key = SecretKeys.Generate(SecretKeys.AgentPrefix);
        agent.ApiKeyId = key.Id;
        agent.ApiKeyHash = key.Hash;
        agent.KeyRevokedAt = null;
        agent.Status = AgentStatuses.Active;
        AuditLog.Record(db, now, actor, "agent.key_rotated", agent.Name);
        await Security.AgentKeyChanges.SaveAsync(db, keys, agent.Id, cancellationToken);
        return new AgentCredentialResponse(agent.ToView(onlineSince, deviceCount), key.Full);
    }
}
