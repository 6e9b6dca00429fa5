namespace Harness.Server.Features.Dispatch;

/// <summary>
/// Wakes long-polling pulls the moment there may be work for them: a run was created, a device
/// became free, a run was cancelled, a scan was requested. In-process only; pulls on other replicas
/// notice new work at their next re-check (every <see cref="RecheckInterval"/>).
/// </summary>
public sealed class DispatchSignal
{
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    private TaskCompletionSource _changed = NewSource();

    /// <summary>A task that completes at the next <see cref="Notify"/>.</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    public void Notify() => Interlocked.Exchange(ref _changed, NewSource()).TrySetResult();

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
