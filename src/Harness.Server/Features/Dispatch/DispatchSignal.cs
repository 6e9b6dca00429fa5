namespace Harness.Server.Features.Dispatch;

/// <summary>
/// Wakes long-polling pulls the moment there may be work for them: a run was created, a device
/// became free, a run was cancelled, a scan was requested. On PostgreSQL the news also goes to the
/// other server replicas (<see cref="PostgresDispatchNotifier"/>); pulls re-check every
/// <see cref="RecheckInterval"/> in any case, so a lost notification costs at most that.
/// </summary>
public sealed class DispatchSignal
{
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    private TaskCompletionSource _changed = NewSource();
    private long _generation;
    private readonly AsyncPending _published = new();

    /// <summary>A task that completes at the next <see cref="Notify"/> (or news from another replica).</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    /// <summary>Counts wake-ups; read after <see cref="Changed"/>, it names the news a pull has already seen.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Something changed here: wake this process's pulls and tell the other replicas.</summary>
    public void Notify()
    {
        WakeLocal();
        _published.Set();
    }

    /// <summary>Wakes this process's pulls only (news that came from another replica).</summary>
    public void WakeLocal()
    {
        Interlocked.Increment(ref _generation);
        Interlocked.Exchange(ref _changed, NewSource()).TrySetResult();
    }

    /// <summary>Completes when there is news to publish to other replicas; bursts coalesce into one.</summary>
    internal Task WaitForNewsAsync(CancellationToken cancellationToken) => _published.WaitAsync(cancellationToken);

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
