using Harness.Contracts.Runs;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Runs;

/// <summary>Counts a run's device states and moves the run along: queued → running → succeeded / failed.</summary>
public static class RunProgress
{
    public static async Task<Dictionary<Guid, RunCounts>> CountAsync(HarnessDbContext db, IReadOnlyCollection<Guid> runIds, CancellationToken cancellationToken)
    {
        var rows = await db.RunDeviceStates.AsNoTracking()
            .Where(s => runIds.Contains(s.RunId))
            .GroupBy(s => new { s.RunId, s.Status })
            .Select(g => new { g.Key.RunId, g.Key.Status, Count = g.Count() })
            .ToListAsync(cancellationToken);
        return runIds.ToDictionary(id => id, id => Counts(rows.Where(r => r.RunId == id).ToDictionary(r => r.Status, r => r.Count)));
    }

    public static RunCounts Counts(IReadOnlyDictionary<string, int> byStatus)
    {
        int Of(string status) => byStatus.TryGetValue(status, out var n) ? n : 0;
        return new RunCounts(
            byStatus.Values.Sum(),
            Of(DeviceRunStatus.Queued), Of(DeviceRunStatus.Dispatched), Of(DeviceRunStatus.Preflight),
            Of(DeviceRunStatus.Running), Of(DeviceRunStatus.Waiting), Of(DeviceRunStatus.Succeeded),
            Of(DeviceRunStatus.Failed), Of(DeviceRunStatus.TimedOut), Of(DeviceRunStatus.Cancelled),
            Of(DeviceRunStatus.SkippedOffline));
    }

    /// <summary>
    /// Call after saving device-state changes, inside the same transaction: updates each run's counters
    /// and status. Returns the runs that just ended.
    /// </summary>
    public static async Task<List<RunEntity>> RefreshAsync(HarnessDbContext db, IReadOnlyCollection<Guid> runIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ended = new List<RunEntity>();
        if (runIds.Count == 0)
        {
            return ended;
        }
        var runs = await db.Runs.Where(r => runIds.Contains(r.Id)).ToListAsync(cancellationToken);
        var counts = await CountAsync(db, runIds, cancellationToken);
        foreach (var run in runs)
        {
            var c = counts[run.Id];
            Apply(run, c);
            if (RunStatus.IsTerminal(run.Status))
            {
                continue;
            }
            if (c.Terminal == c.Total)
            {
                run.Status = c.Failed + c.TimedOut > 0 || c.Succeeded == 0 ? RunStatus.Failed : RunStatus.Succeeded;
                run.FinishedAt = now;
                run.LastErrorMessage = run.Status == RunStatus.Failed
                    ? c.Succeeded == 0 && c.Failed + c.TimedOut == 0
                        ? "no device ran: every targeted device was offline, quarantined or cancelled"
                        : $"{c.Failed + c.TimedOut} of {c.Total} device(s) failed"
                    : null;
                ended.Add(run);
            }
            else if (run.Status == RunStatus.Queued && c.Preflight + c.Running + c.Waiting + c.Succeeded + c.Failed + c.TimedOut > 0)
            {
                run.Status = RunStatus.Running;
                run.StartedAt ??= now;
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        return ended;
    }

    public static void Apply(RunEntity run, RunCounts c)
    {
        run.TotalDevices = c.Total;
        run.QueuedCount = c.Queued + c.Dispatched;
        run.RunningCount = c.Preflight + c.Running + c.Waiting;
        run.SucceededCount = c.Succeeded;
        run.FailedCount = c.Failed + c.TimedOut;
        run.SkippedCount = c.SkippedOffline;
        run.CancelledCount = c.Cancelled;
    }
}
