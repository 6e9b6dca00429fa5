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
    /// Saves the context's changes inside the caller's transaction (under the dispatch lock), moving each
    /// touched run's counters by the device-state changes saved, and moves the run along (queued → running →
    /// succeeded / failed). Counting by the change instead of recounting every device of the run keeps a
    /// callback's cost flat as runs grow. Returns the runs that just ended.
    /// </summary>
    /// <remarks>
    /// A run this unit of work created or changed is moved in memory and saved with the rest. Any other run
    /// is moved in the database, after the rest is saved (<see cref="HarnessDbContext.MoveRunCountersAsync"/>):
    /// callbacks of many agents move the same run at once, and its row is then held only from that one
    /// statement to the commit, by one of them; the others leave their moves to it, or to the next mover,
    /// and wake <see cref="RunCounterFolder"/> at their commit (<see cref="MovesLeftInterceptor"/>) so that a
    /// run's last moves are not left waiting.
    /// </remarks>
    public static async Task<List<RunEntity>> SaveChangesAsync(HarnessDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Changes are detected once here (over every tracked row), not again by each look at the entries below.
        db.ChangeTracker.DetectChanges();
        var deltas = new Dictionary<Guid, int[]>();
        foreach (var entry in TrackedRows.Tracked<RunDeviceStateEntity>(db))
        {
            var (before, after) = entry.State switch
            {
                EntityState.Added => (null, entry.Entity.Status),
                EntityState.Deleted => (entry.Property(s => s.Status).OriginalValue, null),
                EntityState.Modified when entry.Property(s => s.Status).IsModified => (entry.Property(s => s.Status).OriginalValue, entry.Entity.Status),
                _ => ((string?)null, (string?)null),
            };
            if (Bucket(before) == Bucket(after))
            {
                continue;
            }
            var delta = deltas.TryGetValue(entry.Entity.RunId, out var d) ? d : deltas[entry.Entity.RunId] = new int[Buckets + 1];
            Move(delta, before, -1);
            Move(delta, after, +1);
        }
        var ended = new List<RunEntity>();
        if (deltas.Count == 0)
        {
            await db.SaveDispatchChangesAsync(cancellationToken);
            return ended;
        }
        // A run tracked from an earlier transaction of the same context may not be current: it is forgotten,
        // and moved in the database like any run this unit of work did not change.
        var inMemory = new List<RunEntity>();
        foreach (var entry in TrackedRows.Tracked<RunEntity>(db).Where(e => deltas.ContainsKey(e.Entity.Id)))
        {
            if (entry.State is EntityState.Added or EntityState.Modified)
            {
                Counters(deltas[entry.Entity.Id]).AddTo(entry.Entity);
                inMemory.Add(entry.Entity);
            }
            else
            {
                entry.State = EntityState.Detached;
            }
        }
        await AdvanceAsync(db, inMemory, ended, now, cancellationToken);
        await db.SaveDispatchChangesAsync(cancellationToken);

        var others = deltas.Where(d => !inMemory.Any(r => r.Id == d.Key)).OrderBy(d => d.Key).ToList();
        if (others.Count > 0)
        {
            var (moved, _) = await db.MoveRunCountersAsync(others.Select(d => (d.Key, Counters(d.Value))).ToList(), cancellationToken);
            await AdvanceAsync(db, moved, ended, now, cancellationToken);
            if (db.ChangeTracker.HasChanges())
            {
                await db.SaveChangesAsync(cancellationToken);
            }
        }
        return ended;
    }

    /// <summary>
    /// Adds the moves other transactions left for these runs (<see cref="HarnessDbContext.MoveRunCountersAsync"/>)
    /// and moves the runs along, inside the caller's transaction. Returns the runs that just ended, and whether
    /// a run was being moved by another transaction (and keeps its moves for it, or for the next fold).
    /// </summary>
    public static async Task<(List<RunEntity> Ended, bool Busy)> FoldAsync(HarnessDbContext db, IReadOnlyCollection<Guid> runIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ended = new List<RunEntity>();
        var (moved, busy) = await db.MoveRunCountersAsync(runIds.Order().Select(id => (id, default(RunCounterDelta))).ToList(), cancellationToken);
        await AdvanceAsync(db, moved, ended, now, cancellationToken);
        if (db.ChangeTracker.HasChanges())
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        return (ended, busy);
    }

    /// <summary>Moves open runs along by their counters: queued → running, or ended (adds those to <paramref name="ended"/>).</summary>
    private static async Task AdvanceAsync(HarnessDbContext db, List<RunEntity> runs, List<RunEntity> ended, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ending = new List<RunEntity>();
        foreach (var run in runs.Where(r => !RunStatus.IsTerminal(r.Status)))
        {
            if (run.SucceededCount + run.FailedCount + run.SkippedCount + run.CancelledCount >= run.TotalDevices)
            {
                ending.Add(run);
            }
            else if (run.Status == RunStatus.Queued && run.RunningCount + run.SucceededCount + run.FailedCount > 0)
            {
                run.Status = RunStatus.Running;
                run.StartedAt ??= now;
            }
        }
        if (ending.Count > 0)
        {
            await EndAsync(db, ending, now, cancellationToken);
            ended.AddRange(ending);
        }
    }

    private static RunCounterDelta Counters(int[] delta) =>
        new(delta[Buckets], delta[0], delta[1], delta[2], delta[3], delta[4], delta[5]);

    /// <summary>
    /// Ends the open runs among <paramref name="runIds"/> whose devices have all ended, by a recount:
    /// the safety net for counters that missed a change. Returns the runs it ended.
    /// </summary>
    public static async Task<List<RunEntity>> ReconcileAsync(HarnessDbContext db, IReadOnlyCollection<Guid> runIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var runs = await db.Runs.Where(r => runIds.Contains(r.Id) && (r.Status == RunStatus.Queued || r.Status == RunStatus.Running)).ToListAsync(cancellationToken);
        if (runs.Count > 0)
        {
            await EndAsync(db, runs, now, cancellationToken);
        }
        return runs;
    }

    /// <summary>
    /// The counters say these runs have ended: the one recount a run costs confirms it from its device
    /// states (the pending changes included) before the run's status is final.
    /// </summary>
    private static async Task EndAsync(HarnessDbContext db, List<RunEntity> ended, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ids = ended.Select(r => r.Id).ToList();
        var pending = db.ChangeTracker.Entries<RunDeviceStateEntity>()
            .Where(e => (e.State is EntityState.Added or EntityState.Modified or EntityState.Deleted) && ids.Contains(e.Entity.RunId))
            .ToList();
        var stored = await db.RecountDeviceStatusesAsync(ids, cancellationToken);
        var statuses = stored.ToDictionary(s => (s.RunId, s.DeviceId), s => s.Status);
        foreach (var e in pending)
        {
            if (e.State == EntityState.Deleted)
            {
                statuses.Remove((e.Entity.RunId, e.Entity.DeviceId));
            }
            else
            {
                statuses[(e.Entity.RunId, e.Entity.DeviceId)] = e.Entity.Status;
            }
        }
        foreach (var run in ended.ToList())
        {
            var c = Counts(statuses.Where(s => s.Key.RunId == run.Id).GroupBy(s => s.Value).ToDictionary(g => g.Key, g => g.Count()));
            Apply(run, c);
            if (c.Terminal != c.Total)
            {
                ended.Remove(run); // The counters had drifted; they are right again now.
                continue;
            }
            run.Status = c.Failed + c.TimedOut > 0 || c.Succeeded == 0 ? RunStatus.Failed : RunStatus.Succeeded;
            run.FinishedAt = now;
            run.LastErrorMessage = run.Status == RunStatus.Failed
                ? c.Succeeded == 0 && c.Failed + c.TimedOut == 0
                    ? "no device ran: every targeted device was offline, quarantined or cancelled"
                    : $"{c.Failed + c.TimedOut} of {c.Total} device(s) failed"
                : null;
        }
    }

    private const int Buckets = 6;

    /// <summary>Which of a run's counters a device status is counted in (queued, running, succeeded, failed, skipped, cancelled).</summary>
    private static int Bucket(string? status) => status switch
    {
        null => -1,
        DeviceRunStatus.Queued or DeviceRunStatus.Dispatched => 0,
        DeviceRunStatus.Preflight or DeviceRunStatus.Running or DeviceRunStatus.Waiting => 1,
        DeviceRunStatus.Succeeded => 2,
        DeviceRunStatus.Failed or DeviceRunStatus.TimedOut => 3,
        DeviceRunStatus.SkippedOffline => 4,
        DeviceRunStatus.Cancelled => 5,
        _ => throw new InvalidOperationException($"unknown device status '{status}'"),
    };

    private static void Move(int[] delta, string? status, int by)
    {
        if (status is null)
        {
            return;
        }
        delta[Bucket(status)] += by;
        delta[Buckets] += by;
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
