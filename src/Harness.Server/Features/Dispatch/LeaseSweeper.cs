using Harness.Contracts.Runs;
using Harness.Server.Data;
using Harness.Server.Features.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Dispatch;

/// <summary>
/// The watchdog of device tasks: a lapsed lease is re-queued if its task never started, else failed
/// as <c>node_lost</c>; a started task past its hard deadline is <c>timed_out</c> (the agent enforces
/// the deadline first; this re-checks it). Any replica may sweep: the dispatch lock serialises them.
/// </summary>
public sealed partial class LeaseSweeper(
    IServiceScopeFactory scopes, TimeProvider time, IOptions<HarnessServerOptions> options, DispatchSignal signal, ILogger<LeaseSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.Dispatch.SweepIntervalSec);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken);
                if (await SweepAsync(stoppingToken) > 0)
                {
                    signal.Notify();
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogFailed(logger, e);
            }
        }
    }

    /// <summary>One pass; returns how many tasks and scans it changed.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<HarnessDbContext>();
        var now = time.GetUtcNow();
        return await SweepScansAsync(db, now, cancellationToken) + await SweepTasksAsync(db, now, cancellationToken) + await SweepRunsAsync(db, now, cancellationToken);
    }

    /// <summary>How often open runs are checked for having ended unnoticed.</summary>
    internal static readonly TimeSpan RunCheckInterval = TimeSpan.FromSeconds(30);

    private DateTimeOffset _lastRunCheck = DateTimeOffset.MinValue;

    /// <summary>
    /// A run's counters move with each device-state change (<see cref="RunProgress.SaveChangesAsync"/>);
    /// should a change ever go uncounted, a run whose devices have all ended is ended here, so no run
    /// stays open for ever.
    /// </summary>
    private async Task<int> SweepRunsAsync(HarnessDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (now - _lastRunCheck < RunCheckInterval)
        {
            return 0;
        }
        _lastRunCheck = now;
        var done = await db.Runs.AsNoTracking()
            .Where(r => (r.Status == RunStatus.Queued || r.Status == RunStatus.Running)
                && !db.RunDeviceStates.Any(s => s.RunId == r.Id && (s.Status == DeviceRunStatus.Queued || s.Status == DeviceRunStatus.Dispatched
                    || s.Status == DeviceRunStatus.Preflight || s.Status == DeviceRunStatus.Running || s.Status == DeviceRunStatus.Waiting)))
            .Select(r => r.Id)
            .ToListAsync(cancellationToken);
        if (done.Count == 0)
        {
            return 0;
        }
        await using var transaction = await db.BeginLockedTransactionAsync(HarnessLock.Dispatch, cancellationToken);
        var ended = await RunProgress.ReconcileAsync(db, done, now, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        foreach (var run in ended)
        {
            LogRunReconciled(logger, run.Id, run.Status);
        }
        return ended.Count;
    }

    /// <summary>A scan no agent carried out within its deadline fails, so nothing stays pending for ever.</summary>
    private async Task<int> SweepScansAsync(HarnessDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var overdue = now - Scans.ScanJobsMirror.Deadline;
        var open = db.ScanJobs.Where(s => (s.Status == Contracts.Dispatch.ScanStatus.Pending || s.Status == Contracts.Dispatch.ScanStatus.Running) && s.RequestedAt < overdue);
        if (!await open.AnyAsync(cancellationToken))
        {
            return 0;
        }
        // Under the dispatch lock, like the callbacks that would complete these scans.
        await using var transaction = await db.BeginLockedTransactionAsync(HarnessLock.Dispatch, cancellationToken);
        var scans = await open.ToListAsync(cancellationToken);
        foreach (var scan in scans)
        {
            scan.Status = Contracts.Dispatch.ScanStatus.Failed;
            scan.FinishedAt = now;
            scan.LastErrorMessage = $"the node did not report the scan within {Scans.ScanJobsMirror.Deadline.TotalMinutes:F0} minutes (offline, or no devices runtime)";
            await Scans.ScanJobsMirror.SyncAsync(db, scan, cancellationToken);
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return scans.Count;
    }

    private async Task<int> SweepTasksAsync(HarnessDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var due = await db.RunDeviceStates.AsNoTracking()
            .AnyAsync(s => (s.LeaseExpiresAt < now || s.DeadlineAt < now)
                && (s.Status == DeviceRunStatus.Dispatched || s.Status == DeviceRunStatus.Preflight || s.Status == DeviceRunStatus.Running || s.Status == DeviceRunStatus.Waiting), cancellationToken);
        if (!due)
        {
            return 0;
        }
        await using var transaction = await db.BeginLockedTransactionAsync(HarnessLock.Dispatch, cancellationToken);
        var rows = await db.RunDeviceStates
            .Where(s => (s.LeaseExpiresAt < now || s.DeadlineAt < now)
                && (s.Status == DeviceRunStatus.Dispatched || s.Status == DeviceRunStatus.Preflight || s.Status == DeviceRunStatus.Running || s.Status == DeviceRunStatus.Waiting))
            .ToListAsync(cancellationToken);
        var lease = options.Value.Dispatch.LeaseSec;
        foreach (var row in rows)
        {
            if (row.DeadlineAt < now && DeviceRunStatus.IsStarted(row.Status))
            {
                row.Status = DeviceRunStatus.TimedOut;
                row.FailureReason = FailureReasons.TaskTimeout;
                row.FinishedAt = now;
                LogTimedOut(logger, row.RunId, row.NodeId, row.DeviceId);
            }
            else if (row.Status == DeviceRunStatus.Dispatched)
            {
                // Never started: another dispatch loses nothing.
                row.Status = DeviceRunStatus.Queued;
                LogRequeued(logger, row.RunId, row.NodeId, row.DeviceId, lease);
            }
            else
            {
                row.Status = DeviceRunStatus.Failed;
                row.FailureReason = FailureReasons.NodeLost;
                row.FinishedAt = now;
                LogLost(logger, row.RunId, row.NodeId, row.DeviceId, lease);
            }
            row.LeaseOwner = null;
            row.LeaseExpiresAt = null;
            row.UpdatedAt = now;
        }
        await RunProgress.SaveChangesAsync(db, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return rows.Count;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Lease lapsed after {LeaseSec}s before the task started; re-queued")]
    private static partial void LogRequeued(ILogger logger, Guid runId, string? nodeId, string deviceId, int leaseSec);

    [LoggerMessage(Level = LogLevel.Warning, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Lease lapsed after {LeaseSec}s while the task ran; failed as node_lost")]
    private static partial void LogLost(ILogger logger, Guid runId, string? nodeId, string deviceId, int leaseSec);

    [LoggerMessage(Level = LogLevel.Warning, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Task passed its hard deadline; timed out by the server")]
    private static partial void LogTimedOut(ILogger logger, Guid runId, string? nodeId, string deviceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "[run_id={RunId}] Every device of the run had ended but its counters had not; ended it {Status} from a recount")]
    private static partial void LogRunReconciled(ILogger logger, Guid runId, string status);

    [LoggerMessage(Level = LogLevel.Error, Message = "Lease sweep failed; retrying at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
