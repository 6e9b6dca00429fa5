using Harness.Agent.Execution;
using Harness.Agent.Inventory;
using Harness.Client;
using Harness.Contracts.Dispatch;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Listener;

/// <summary>
/// Long-polls <c>POST /api/nodes/pull</c> for device work. Every pull lists every held task (so the
/// server renews their leases) and asks for as many tasks as the scheduler has free slots. With no
/// free slot the server answers at once, and the loop waits for a slot to free, but never longer than
/// a third of the lease, so leases are renewed even while every slot is busy. Cancellations go to the
/// scheduler, scans are answered with a <c>scan.result</c> event through the outbox. Failures back off
/// with jitter, like the heartbeat.
/// </summary>
public sealed partial class PullLoop(
    IOptions<AgentOptions> options,
    AgentCredentials credentials,
    HarnessNodeClient client,
    DeviceScheduler scheduler,
    DeviceDirectory directory,
    DeviceHealth health,
    IOutbox outbox,
    Backoff backoff,
    TimeProvider time,
    ILogger<PullLoop> logger) : BackgroundService
{
    /// <summary>Until the server has told the lease length, renew this often.</summary>
    private static readonly TimeSpan DefaultRenewInterval = TimeSpan.FromSeconds(10);

    /// <summary>A server that answers an empty long-poll early is not asked again sooner than this.</summary>
    internal static readonly TimeSpan MinEmptyPullInterval = TimeSpan.FromSeconds(1);

    private TimeSpan? _renewInterval;

    public int ConsecutiveFailures { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan? delay = null;
            var waitForSlot = false;
            try
            {
                var (items, askedWait, took) = await PullOnceAsync(stoppingToken);
                if (ConsecutiveFailures > 0)
                {
                    LogRecovered(logger, options.Value.ServerUrl, ConsecutiveFailures);
                }
                ConsecutiveFailures = 0;
                if (scheduler.FreeSlots == 0)
                {
                    waitForSlot = true;
                }
                else if (items == 0 && askedWait > TimeSpan.Zero && took < askedWait / 2)
                {
                    delay = MinEmptyPullInterval;
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                ConsecutiveFailures++;
                delay = backoff.Next(ConsecutiveFailures);
                if (e is AgentConfigurationException or HarnessApiException { Status: System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden })
                {
                    LogRejected(logger, options.Value.ServerUrl, ConsecutiveFailures, delay.Value.TotalSeconds, e.Message);
                }
                else
                {
                    LogRetry(logger, options.Value.ServerUrl, ConsecutiveFailures, delay.Value.TotalSeconds, scheduler.Held.Count, e.Message);
                }
            }
            try
            {
                if (waitForSlot)
                {
                    await scheduler.SlotFreed.WaitAsync(_renewInterval ?? DefaultRenewInterval, time, stoppingToken);
                }
                else if (delay is { } d)
                {
                    await Task.Delay(d, time, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Stops pulling, then hands the leases of tasks received but never started back to the server, so
    /// another agent can take them at once instead of after the lease runs out.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        var unstarted = scheduler.TakeQueued();
        if (unstarted.Count == 0)
        {
            return;
        }
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(ReleaseTimeout);
        try
        {
            var key = await credentials.GetKeyAsync(bounded.Token);
            var released = await client.ReleaseAsync(new ReleaseRequest(unstarted), key, bounded.Token);
            LogReleased(logger, options.Value.Name, unstarted.Count, released.Released);
        }
        catch (Exception e) when (e is not OperationCanceledException || bounded.IsCancellationRequested)
        {
            // Their leases run out on the server and it queues them again then.
            LogReleaseFailed(logger, options.Value.Name, unstarted.Count, e.Message);
        }
    }

    /// <summary>How long a stopping agent tries to hand back unstarted tasks.</summary>
    internal static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(5);

    private async Task<(int Items, TimeSpan AskedWait, TimeSpan Took)> PullOnceAsync(CancellationToken cancellationToken)
    {
        var key = await credentials.GetKeyAsync(cancellationToken);
        var free = scheduler.FreeSlots;
        var wait = free > 0 ? TimeSpan.FromMilliseconds(options.Value.Devices.PullWaitMs) : TimeSpan.Zero;
        if (_renewInterval is { } renew && wait > renew)
        {
            wait = renew;
        }
        var started = time.GetUtcNow();
        var response = await client.PullAsync(new PullRequest(free, (int)wait.TotalMilliseconds, scheduler.Held), key, cancellationToken);
        var took = time.GetUtcNow() - started;
        if (response.LeaseSec > 0)
        {
            _renewInterval = TimeSpan.FromSeconds(response.LeaseSec / 3.0);
        }
        foreach (var cancel in response.Cancel ?? [])
        {
            await scheduler.CancelAsync(cancel, cancellationToken);
        }
        var tasks = response.Tasks ?? [];
        if (tasks.Count > 0)
        {
            LogReceived(logger, options.Value.Name, tasks.Count, free);
            await scheduler.SubmitAsync(tasks, cancellationToken);
        }
        foreach (var scan in response.Scans ?? [])
        {
            _ = Task.Run(() => ScanAsync(scan, cancellationToken), CancellationToken.None);
        }
        // Cancels and scans are news too: only an answer with nothing in it counts as empty.
        return (tasks.Count + (response.Cancel?.Count ?? 0) + (response.Scans?.Count ?? 0), wait, took);
    }

    /// <summary>Lists the devices and reports them as the scan's result (or why it could not).</summary>
    internal async Task ScanAsync(ScanOrder scan, CancellationToken cancellationToken)
    {
        CallbackEvent result;
        try
        {
            var devices = await directory.RefreshAsync(cancellationToken);
            result = new CallbackEvent(TaskEvents.NewEventId(), CallbackTypes.ScanResult, time.GetUtcNow(), ScanId: scan.ScanId,
                Status: ScanStatus.Succeeded,
                Devices: [.. devices.Select(d => new Contracts.Nodes.DeviceReport(d.DeviceId, d.Handle, d.Model, d.State, Error: d.Error, Quarantined: health.IsQuarantined(d.DeviceId)))]);
            LogScanned(logger, options.Value.Name, scan.ScanId, devices.Count);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            result = new CallbackEvent(TaskEvents.NewEventId(), CallbackTypes.ScanResult, time.GetUtcNow(), ScanId: scan.ScanId,
                Status: ScanStatus.Failed, Message: e.Message);
            LogScanFailed(logger, options.Value.Name, scan.ScanId, e.Message);
        }
        catch (OperationCanceledException)
        {
            return; // Shutting down: the server times the scan out.
        }
        await outbox.EnqueueAsync(result, CancellationToken.None);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "[node_id={NodeId}] Received {Count} task(s) for {Free} free slot(s)")]
    private static partial void LogReceived(ILogger logger, string nodeId, int count, int free);

    [LoggerMessage(Level = LogLevel.Information, Message = "[node_id={NodeId}] Stopping: handed back {Count} unstarted task(s); the server queued {Released} again")]
    private static partial void LogReleased(ILogger logger, string nodeId, int count, int released);

    [LoggerMessage(Level = LogLevel.Warning, Message = "[node_id={NodeId}] Stopping: could not hand back {Count} unstarted task(s), their leases will run out: {Reason}")]
    private static partial void LogReleaseFailed(ILogger logger, string nodeId, int count, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "[node_id={NodeId}] Scan {ScanId} found {Count} device(s)")]
    private static partial void LogScanned(ILogger logger, string nodeId, Guid scanId, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "[node_id={NodeId}] Scan {ScanId} failed: {Error}")]
    private static partial void LogScanFailed(ILogger logger, string nodeId, Guid scanId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pull from {Server} failed (attempt {Attempt}); retrying in {DelaySec:F1}s with {Held} task(s) held: {Reason}")]
    private static partial void LogRetry(ILogger logger, string server, int attempt, double delaySec, int held, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Pull from {Server} refused (attempt {Attempt}); retrying in {DelaySec:F1}s: {Reason}")]
    private static partial void LogRejected(ILogger logger, string server, int attempt, double delaySec, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pull from {Server} succeeded again after {Failures} failure(s)")]
    private static partial void LogRecovered(ILogger logger, string server, int failures);
}
