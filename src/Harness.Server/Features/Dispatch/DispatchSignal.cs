using System.Collections.Concurrent;

namespace Harness.Server.Features.Dispatch;

/// <summary>
/// Wakes long-polling pulls the moment there may be work for them. News is either for everyone (a
/// run was cancelled, leases lapsed, a run slot opened that any agent may fill) or for named agents
/// only (a run queued tasks on their devices, one of their devices became free, a scan was ordered
/// for them): a named agent's pull goes straight to its claim, and nobody else wakes, so one new task
/// costs one claim instead of a wake-up of every waiting pull. On PostgreSQL the news also goes to
/// the other server replicas (<see cref="PostgresDispatchNotifier"/>); pulls re-check every
/// <see cref="RecheckInterval"/> in any case, so a lost notification costs at most that.
/// </summary>
public sealed class DispatchSignal
{
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>Above this many agents, news for them is published to other replicas as news for everyone.</summary>
    internal const int MaxNamedAgents = 100;

    private TaskCompletionSource _changed = NewSource();
    private long _generation;
    private long _sequence;
    private long _lastForAll;
    private readonly ConcurrentDictionary<Guid, long> _lastFor = new();
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _agents = new();
    private readonly AsyncPending _published = new();
    private readonly Lock _newsGate = new();
    private readonly HashSet<Guid> _newsForAgents = [];
    private bool _newsForAll;

    /// <summary>A task that completes at the next news for everyone (here or from another replica).</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    /// <summary>Counts wake-ups of everyone; read after <see cref="Changed"/>, it names the news a pull has already seen.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>
    /// Counts every piece of news, for everyone or for named agents. Read before a read of the database
    /// begins, it says which news that read has seen: every change a piece of news is about was committed
    /// before the news.
    /// </summary>
    public long Sequence => Interlocked.Read(ref _sequence);

    /// <summary>The <see cref="Sequence"/> of the last news this agent would act on (for it or for everyone); 0 if none.</summary>
    public long LastNewsFor(Guid agentId) => Math.Max(Interlocked.Read(ref _lastForAll), _lastFor.GetValueOrDefault(agentId));

    /// <summary>A task that completes at the next news for this agent alone (news for everyone completes <see cref="Changed"/>).</summary>
    public Task ChangedFor(Guid agentId) => _agents.GetOrAdd(agentId, _ => NewSource()).Task;

    /// <summary>Something changed here that any agent may act on: wake this process's pulls and tell the other replicas.</summary>
    public void Notify()
    {
        WakeLocal();
        lock (_newsGate)
        {
            _newsForAll = true;
            _newsForAgents.Clear();
        }
        _published.Set();
    }

    /// <summary>Something changed here for these agents only: wake their pulls and tell the other replicas.</summary>
    public void Notify(IEnumerable<Guid> agentIds)
    {
        var named = agentIds.ToHashSet();
        if (named.Count == 0)
        {
            return;
        }
        WakeLocal(named);
        lock (_newsGate)
        {
            if (!_newsForAll)
            {
                _newsForAgents.UnionWith(named);
                _newsForAll = _newsForAgents.Count > MaxNamedAgents;
            }
        }
        _published.Set();
    }

    /// <summary>Wakes every pull of this process only (news for everyone from another replica).</summary>
    public void WakeLocal()
    {
        Interlocked.Exchange(ref _lastForAll, Interlocked.Increment(ref _sequence));
        Interlocked.Increment(ref _generation);
        Interlocked.Exchange(ref _changed, NewSource()).TrySetResult();
    }

    /// <summary>Wakes the pulls of these agents in this process only (news for them from another replica).</summary>
    public void WakeLocal(IEnumerable<Guid> agentIds)
    {
        var sequence = Interlocked.Increment(ref _sequence);
        foreach (var agentId in agentIds)
        {
            _lastFor.AddOrUpdate(agentId, sequence, (_, seen) => Math.Max(seen, sequence));
            // Completed before it is removed: a pull that finds a new wait in its place knows the old one ended.
            if (_agents.TryGetValue(agentId, out var waiting))
            {
                waiting.TrySetResult();
                _agents.TryRemove(new KeyValuePair<Guid, TaskCompletionSource>(agentId, waiting));
            }
        }
    }

    /// <summary>Completes when there is news to publish to other replicas; bursts coalesce into one.</summary>
    internal Task WaitForNewsAsync(CancellationToken cancellationToken) => _published.WaitAsync(cancellationToken);

    /// <summary>The news gathered since the last call: for everyone, or for the agents named (empty when there is none).</summary>
    internal (bool ForAll, IReadOnlyList<Guid> Agents) TakeNews()
    {
        lock (_newsGate)
        {
            var news = (_newsForAll, (IReadOnlyList<Guid>)[.. _newsForAgents]);
            _newsForAll = false;
            _newsForAgents.Clear();
            return news;
        }
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A coalescing flag: many <see cref="Set"/> calls before a wait make one wake-up.</summary>
internal sealed class AsyncPending
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Set()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already pending.
        }
    }

    public Task WaitAsync(CancellationToken cancellationToken) => _signal.WaitAsync(cancellationToken);
}
