namespace Harness.Server.Features;

/// <summary>The body of the server's background loops: wait on the injected clock, run one pass, log a failed pass and go on.</summary>
internal static class PeriodicLoop
{
    public static async Task RunAsync(
        TimeSpan interval, TimeProvider time, Func<CancellationToken, Task> pass, Action<Exception> passFailed, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken);
                await pass(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                passFailed(e);
            }
        }
    }
}
