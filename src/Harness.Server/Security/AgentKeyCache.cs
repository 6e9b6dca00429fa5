using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Harness.Server.Security;

/// <summary>
/// The agent keys this server looked up, so an agent's pulls and callbacks do not each cost a database
/// read. Only keys that were found are remembered (an unknown key is looked up every time), and the
/// secret is still checked against the stored hash on every request.
/// </summary>
/// <remarks>
/// Revoking, rotating or deleting an agent forgets its keys at once on the replica that did it, and
/// tells the others (<see cref="AgentKeyChanges"/>). While every change reaches this cache (SQLite:
/// one process; PostgreSQL: this replica is listening for the others' changes), a key is remembered
/// <see cref="SharedLifetime"/>, longer than an agent's long-poll, so an idle fleet's pulls read no
/// key at all. While it is not listening, a key is remembered only <see cref="Lifetime"/>: another
/// replica's change is then seen within that.
/// </remarks>
public sealed class AgentKeyCache(TimeProvider time, IOptions<HarnessServerOptions> options)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan SharedLifetime = TimeSpan.FromMinutes(10);

    /// <summary>Above this many entries, a new one first clears out the expired.</summary>
    private const int PruneAbove = 4096;

    private readonly ConcurrentDictionary<string, AgentKey> _keys = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _version;
    private bool _told = options.Value.Database.Provider != DatabaseOptions.Postgres;

    public sealed record AgentKey(Guid AgentId, string Name, byte[] Hash, DateTimeOffset Until);

    /// <summary>Changes at every forgetting: read before a key is looked up, it tells <see cref="Remember"/> whether the lookup may be stale.</summary>
    public long Version
    {
        get
        {
            lock (_gate)
            {
                return _version;
            }
        }
    }

    public AgentKey? Find(string keyId) =>
        _keys.TryGetValue(keyId, out var key) && key.Until > time.GetUtcNow() ? key : null;

    /// <summary>
    /// Remembers a key read from the database, unless something was forgotten since <paramref name="version"/>
    /// (<see cref="Version"/> before the read): the read may predate a revocation, so it is used for this
    /// request only.
    /// </summary>
    public AgentKey Remember(long version, string keyId, Guid agentId, string name, byte[] hash)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            var key = new AgentKey(agentId, name, hash, now + (_told ? SharedLifetime : Lifetime));
            if (version != _version)
            {
                return key;
            }
            if (_keys.Count > PruneAbove)
            {
                foreach (var (id, known) in _keys)
                {
                    if (known.Until <= now)
                    {
                        _keys.TryRemove(id, out _);
                    }
                }
            }
            return _keys[keyId] = key;
        }
    }

    /// <summary>Forgets every key of <paramref name="agentId"/>: after revoking, rotating or deleting it, here or on another replica.</summary>
    public void Forget(Guid agentId)
    {
        lock (_gate)
        {
            _version++;
            foreach (var (id, key) in _keys)
            {
                if (key.AgentId == agentId)
                {
                    _keys.TryRemove(id, out _);
                }
            }
        }
    }

    /// <summary>
    /// Whether every other replica's change to agent keys reaches this cache from now on. Either way
    /// everything is forgotten: changes made while it was not listening were never heard.
    /// </summary>
    public void Listening(bool listening)
    {
        lock (_gate)
        {
            _told = listening;
            ForgetAll();
        }
    }

    /// <summary>Forgets every key (a change notice that names no agent).</summary>
    public void ForgetAll()
    {
        lock (_gate)
        {
            _version++;
            _keys.Clear();
        }
    }
}
