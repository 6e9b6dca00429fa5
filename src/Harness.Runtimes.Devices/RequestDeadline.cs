namespace Harness.Runtimes.Devices;

/// <summary>
/// Every adapter call gets the configured request timeout. The caller cancelling is an
/// <see cref="OperationCanceledException"/>; the device not answering in time is
/// <see cref="DeviceErrorKind.Unavailable"/>, so the scheduler waits its grace period.
/// </summary>
internal sealed class RequestDeadline(TimeSpan timeout, TimeProvider timeProvider)
{
    public TimeSpan Timeout { get; } = timeout;

    public async Task<T> RunAsync<T>(string handle, string command, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(Timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await call(linked.Token);
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new DeviceException(DeviceErrorKind.Unavailable,
                $"{handle}: {command} got no answer within {Timeout.TotalMilliseconds:0} ms; the device is not responding.", ex);
        }
    }

    public Task RunAsync(string handle, string command, Func<CancellationToken, Task> call, CancellationToken cancellationToken) =>
        RunAsync(handle, command, async token => { await call(token); return true; }, cancellationToken);
}
