using Harness.Server.Data;

namespace Harness.Server.Security;

/// <summary>
/// Tells every server replica that an agent's key changed (revoked, rotated, deleted), so each forgets
/// what its <see cref="AgentKeyCache"/> remembers of it: on PostgreSQL a <c>NOTIFY harness_agent_keys</c>
/// in the changing transaction, delivered at its commit and heard by each replica's listener
/// (<see cref="Features.Dispatch.PostgresDispatchNotifier"/>). On SQLite there is one process.
/// </summary>
public static class AgentKeyChanges
{
    public const string Channel = "harness_agent_keys";

    /// <summary>Saves the context's changes to <paramref name="agentId"/>'s key, tells the other replicas, and forgets the key here.</summary>
    public static async Task SaveAsync(HarnessDbContext db, AgentKeyCache keys, Guid agentId, CancellationToken cancellationToken)
    {
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            await db.SaveChangesAsync(cancellationToken);
            await db.NotifyAsync(Channel, agentId.ToString("N"), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        keys.Forget(agentId);
    }

    /// <summary>Applies another replica's notice: forgets the agent it names; anything else forgets every key.</summary>
    internal static void Apply(AgentKeyCache keys, string? payload)
    {
        if (Guid.TryParseExact(payload?.Trim(), "N", out var agentId))
        {
            keys.Forget(agentId);
        }
        else
        {
            keys.ForgetAll();
        }
    }
}
