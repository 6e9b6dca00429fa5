namespace Harness.Agent;

/// <summary>
/// An auto-reset wake-up call between loops: <see cref="Set"/> wakes the current (or next) waiter
/// once. Signals coalesce; a waiter that arrives after a <see cref="Set"/> returns at once.
/// </summary>
public sealed class AsyncSignal
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Set()
    {
        lock (_lock)
        {
            _tcs.TrySetResult();
        }
    }

    /// <summary>Waits for the next signal, at most <paramref name="timeout"/> (infinite when null); true when signalled.</summary>
    public async Task<bool> WaitAsync(TimeSpan? timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        Task signalled;
        lock (_lock)
        {
            signalled = _tcs.Task;
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = timeout is { } t ? Task.Delay(t, time, cts.Token) : Task.Delay(Timeout.Infinite, cts.Token);
        var first = await Task.WhenAny(signalled, delay);
        await cts.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
        if (first != signalled)
        {
            return false;
        }
        lock (_lock)
        {
            if (_tcs.Task == signalled)
            {
                _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        return true;
    }
}
