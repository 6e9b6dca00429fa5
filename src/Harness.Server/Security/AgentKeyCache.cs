using System.Collections.Concurrent;

namespace Harness.Server.Security;

/// <summary>
/// The agent keys this server looked up a moment ago, so an agent's pulls and callbacks do not each
/// cost a database read. An entry lives <see cref="Lifetime"/>; revoking, rotating or deleting on
/// this server forgets it at once, and another replica's change is seen within the lifetime. Only
/// keys that were found are remembered (an unknown key is looked up every time), and the secret is
/// still checked against the stored hash on every request.
/// </summary>
public sealed class AgentKeyCache(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);

    /// <summary>Above this many entries, a new one first clears out the expired.</summary>
    private const int PruneAbove = 4096;

    private readonly ConcurrentDictionary<string, AgentKey> _keys = new(StringComparer.Ordinal);

    public sealed record AgentKey(Guid AgentId, string Name, byte[] Hash, DateTimeOffset Until);

    public AgentKey? Find(string keyId) =>
        _keys.TryGetValue(keyId, out var key) && key.Until > time.GetUtcNow() ? key : null;

    public AgentKey Remember(string keyId, Guid agentId, string name, byte[] hash)
    {
        var now = time.GetUtcNow();
        if (_keys.Count > PruneAbove)
        {
            foreach (var (id, key) in _keys)
            {
                if (key.Until <= now)
                {
                    _keys.TryRemove(id, out _);
                }
            }
        }
        return _keys[keyId] = new AgentKey(agentId, name, hash, now + Lifetime);
    }

    /// <summary>Forgets every key of <paramref name="agentId"/>: call after revoking, rotating or deleting it.</summary>
    public void Forget(Guid agentId)
    {
        foreach (var (id, key) in _keys)
        {
            if (key.AgentId == agentId)
            {
                _keys.TryRemove(id, out _);
            }
        }
    }
}
