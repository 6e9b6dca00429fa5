using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Runs;
using Harness.Contracts.Workflows;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Harness.Server.Features.Metrics;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Dispatch;

/// <summary>
/// Answers an agent's long-poll: renews the leases of the tasks it holds, tells it which of them to
/// stop, and leases it queued tasks for its idle devices, oldest run first, one task per device,
/// never more of a run at once than the run's concurrency. Waits (without holding a transaction)
/// until there is something to say or the wait ends.
/// </summary>
public sealed partial class Dispatcher(
    HarnessDbContext db, TimeProvider time, IOptions<HarnessServerOptions> options, DispatchSignal signal, DispatchWork work, ClaimGroups claims,
    HarnessMetrics metrics, ILogger<Dispatcher> logger)
{
    /// <param name="stopping">The server is stopping: answer the long-poll now, so the drain is not held up by it.</param>
    public async Task<PullResponse> PullAsync(Guid agentId, PullRequest request, CancellationToken cancellationToken, CancellationToken stopping = default)
    {
        var dispatch = options.Value.Dispatch;
        var holds = request.Holds ?? [];
        var freeSlots = request.FreeSlots ?? 0;
        var waitUntil = time.GetUtcNow().AddMilliseconds(Math.Min(request.WaitMs ?? 0, dispatch.MaxPullWaitMs));
        // The renewal's read of the held tasks also answers the first look for tasks to stop.
        var owned = await RenewAsync(agentId, holds, cancellationToken);
        DateTimeOffset? lastCheck = null;
        Task? lastMine = null;
        while (true)
        {
            var changed = signal.Changed;
            var mine = signal.ChangedFor(agentId);
            var generation = signal.Generation;
            // News for this agent since the last wait began, even if other news ended that wait first: a
            // wait that is replaced was completed before (DispatchSignal.WakeLocal), so this sees it.
            var forMe = lastMine is { IsCompleted: true };
            // A look after news for this agent is the agent's own. Otherwise one read shared by every pull of
            // this process says whether this agent has anything to claim at all: after news for everyone or
            // a re-check, a read that began after this pull's last look; on arrival, one under a second old.
            var look = forMe || (lastCheck is { } since
                ? await work.MayHaveWorkAsync(agentId, generation, since, cancellationToken)
                : await work.MayHaveWorkOnArrivalAsync(agentId, cancellationToken));
            lastCheck = time.GetUtcNow();
            var (tasks, scans) = look ? await ClaimOnceAsync(agentId, freeSlots, cancellationToken) : ([], []);
            var cancel = await CancelsAsync(agentId, holds, owned, cancellationToken);
            owned = null;
            var now = time.GetUtcNow();
            if (tasks.Count > 0 || scans.Count > 0 || cancel.Count > 0 || now >= waitUntil || stopping.IsCancellationRequested)
            {
                return new PullResponse(tasks, cancel, scans, dispatch.LeaseSec, now);
            }
            var nap = TimeSpan.FromTicks(Math.Min((waitUntil - now).Ticks, DispatchSignal.RecheckInterval.Ticks));
            await Task.WhenAny(changed, mine, Task.Delay(nap, time, cancellationToken));
            lastMine = mine;
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// Claims in the next group (<see cref="ClaimGroups"/>); a claim the group left (a pending scan, grouping off,
    /// a failed group) is made on its own, retried when it loses a race.
    /// </summary>
    private async Task<(List<DeviceTask> Tasks, List<ScanOrder> Scans)> ClaimOnceAsync(Guid agentId, int freeSlots, CancellationToken cancellationToken)
    {
        if (await claims.SendAsync((agentId, freeSlots)) is { } grouped)
        {
            return (grouped, []);
        }
        return await ConflictRetry.RunAsync(db, () => ClaimAsync(agentId, freeSlots, cancellationToken),
            (attempt, e) => LogClaimRetry(logger, agentId, attempt, e),
            (attempt, e) =>
            {
                // Nothing was leased: the tasks stay queued for the next look, at the latest the re-check.
                LogClaimGaveUp(logger, agentId, attempt, e);
                return (new List<DeviceTask>(), new List<ScanOrder>());
            });
    }

    /// <summary>
    /// Queues again the tasks a stopping agent hands back unstarted: only those still leased to it at
    /// that attempt and not yet begun (<c>dispatched</c>); anything further along is left to the
    /// agent's own reports and the lease logic.
    /// </summary>
    public async Task<int> ReleaseAsync(Guid agentId, IReadOnlyList<TaskRef> tasks, CancellationToken cancellationToken)
    {
        if (tasks.Count == 0)
        {
            return 0;
        }
        await using var transaction = await db.BeginLockedTransactionAsync(HarnessLock.Dispatch, cancellationToken);
        var now = time.GetUtcNow();
        var rows = (await LockLeasedToAsync(agentId, tasks, cancellationToken)).Where(r => r.Status == DeviceRunStatus.Dispatched).ToList();
        foreach (var row in rows)
        {
            row.Status = DeviceRunStatus.Queued;
            row.LeaseOwner = null;
            row.LeaseExpiresAt = null;
            row.DeadlineAt = null;
            row.UpdatedAt = now;
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (rows.Count > 0)
        {
            metrics.LeasesReleased(rows.Count);
            signal.Notify();
            LogReleased(logger, agentId, rows.Count);
        }
        return rows.Count;
    }

    /// <summary>
    /// Extends the lease of every held task still leased to this agent. Agents pull often (every freed
    /// slot), so only leases past a third of their life are written; agents pull at least every third.
    /// Returns the held tasks still leased to this agent (as renewed, if any was due), or null when none are held.
    /// </summary>
    private async Task<List<Held>?> RenewAsync(Guid agentId, IReadOnlyList<TaskRef> holds, CancellationToken cancellationToken)
    {
        if (holds.Count == 0)
        {
            return null;
        }
        var now = time.GetUtcNow();
        var lease = TimeSpan.FromSeconds(options.Value.Dispatch.LeaseSec);
        var due = now + lease * 2 / 3;
        bool Due(string status, DateTimeOffset? leaseExpiresAt) => DeviceRunStatus.IsActive(status) && leaseExpiresAt < due;
        var owned = await LeasedToAsync(agentId, holds, cancellationToken);
        if (!owned.Any(h => Due(h.Status, h.LeaseExpiresAt)))
        {
            return owned;
        }
        // Shared: only the lease column of the agent's own rows is written.
        var (transaction, locked) = await db.BeginSharedLockedTransactionAsync(HarnessLock.Dispatch, Keys(holds), cancellationToken);
        await using (transaction)
        {
            var rows = LeasedTo(agentId, holds, locked);
            foreach (var row in rows.Where(r => Due(r.Status, r.LeaseExpiresAt)))
            {
                row.LeaseExpiresAt = now + lease;
            }
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return rows.Select(r => new Held(r.RunId, r.DeviceId, r.Attempt, r.Status, r.LeaseExpiresAt)).ToList();
        }
    }

    /// <summary>
    /// Held tasks the agent must stop: ended by the server (cancelled, timed out, lost: each of those
    /// clears the lease owner) or leased to someone else. A task the agent itself reported ended keeps
    /// its owner and is not listed: there is nothing to stop, and no reason to answer the long-poll.
    /// </summary>
    /// <param name="read">The held tasks leased to this agent, read a moment ago by the same request; null reads them now.</param>
    private async Task<List<TaskRef>> CancelsAsync(Guid agentId, IReadOnlyList<TaskRef> holds, List<Held>? read, CancellationToken cancellationToken)
    {
        if (holds.Count == 0)
        {
            return [];
        }
        var owned = (read ?? await LeasedToAsync(agentId, holds, cancellationToken))
            .Select(r => (r.RunId, r.DeviceId, r.Attempt))
            .ToHashSet();
        return holds.Where(h => !owned.Contains((h.RunId, h.DeviceId, h.Attempt))).ToList();
    }

    /// <summary>The held tasks still leased to this agent at the attempt it holds, read without their workflows.</summary>
    private async Task<List<Held>> LeasedToAsync(Guid agentId, IReadOnlyList<TaskRef> holds, CancellationToken cancellationToken)
    {
        var owner = agentId.ToString();
        var runIds = holds.Select(h => h.RunId).Distinct().ToList();
        var deviceIds = holds.Select(h => h.DeviceId).Distinct().ToList();
        var rows = await db.RunDeviceStates.AsNoTracking()
            .Where(s => runIds.Contains(s.RunId) && deviceIds.Contains(s.DeviceId) && s.LeaseOwner == owner)
            .Select(s => new Held(s.RunId, s.DeviceId, s.Attempt, s.Status, s.LeaseExpiresAt))
            .ToListAsync(cancellationToken);
        var wanted = holds.Select(h => (h.RunId, h.DeviceId, h.Attempt)).ToHashSet();
        return rows.Where(r => wanted.Contains((r.RunId, r.DeviceId, r.Attempt))).ToList();
    }

    /// <summary>
    /// The same, tracked and locked until the transaction ends, in key order like a callback's rows, so a
    /// renewal or a release and a callback of the same tasks cannot deadlock.
    /// </summary>
    private async Task<List<RunDeviceStateEntity>> LockLeasedToAsync(Guid agentId, IReadOnlyList<TaskRef> holds, CancellationToken cancellationToken) =>
        LeasedTo(agentId, holds, await db.LockDeviceStatesAsync(Keys(holds), cancellationToken));

    /// <summary>Of the rows locked for <paramref name="holds"/>, those still leased to this agent at the attempt it holds.</summary>
    private static List<RunDeviceStateEntity> LeasedTo(Guid agentId, IReadOnlyList<TaskRef> holds, List<RunDeviceStateEntity> locked)
    {
        var owner = agentId.ToString();
        var wanted = holds.Select(h => (h.RunId, h.DeviceId, h.Attempt)).ToHashSet();
        return locked.Where(r => r.LeaseOwner == owner && wanted.Contains((r.RunId, r.DeviceId, r.Attempt))).ToList();
    }

    private static HashSet<(Guid RunId, string DeviceId)> Keys(IReadOnlyList<TaskRef> holds) => holds.Select(h => (h.RunId, h.DeviceId)).ToHashSet();

    /// <summary>A held task as a pull needs it: its attempt, its status and its lease.</summary>
    private sealed record Held(Guid RunId, string DeviceId, int Attempt, string Status, DateTimeOffset? LeaseExpiresAt);

    private async Task<(List<DeviceTask> Tasks, List<ScanOrder> Scans)> ClaimAsync(Guid agentId, int freeSlots, CancellationToken cancellationToken)
    {
        // One statement asks both questions: the common idle case costs one round trip and no lock.
        var look = await db.Agents.AsNoTracking()
            .Where(a => a.Id == agentId)
            .Select(a => new
            {
                Scans = db.ScanJobs.Any(s => s.AgentId == agentId && s.Status == ScanStatus.Pending),
                Queued = freeSlots > 0 && db.RunDeviceStates.Any(s => s.AgentId == agentId && s.Status == DeviceRunStatus.Queued),
            })
            .SingleOrDefaultAsync(cancellationToken);
        var (pendingScans, anyQueued) = (look?.Scans ?? false, look?.Queued ?? false);
        if (!pendingScans && !anyQueued)
        {
            return ([], []);
        }
        // Rows an earlier look of this long-poll tracked may have changed since: read everything afresh.
        db.ChangeTracker.Clear();
        // Claims run alongside each other and alongside callbacks, never alongside the sweeper, a cancel or a
        // release. Of the claims, one per agent at a time (its devices) and, for a run whose concurrency is
        // below its devices, one per run (LeaseTasksAsync); the rows leased are locked and checked again.
        await using var transaction = await db.BeginSharedLockedTransactionAsync(HarnessLock.Dispatch, KeyedLock.AgentClaims, agentId, cancellationToken);
        var now = time.GetUtcNow();
        var scans = pendingScans ? await db.ScanJobs.Where(s => s.AgentId == agentId && s.Status == ScanStatus.Pending).ToListAsync(cancellationToken) : [];
        foreach (var scan in scans)
        {
            scan.Status = ScanStatus.Running;
            scan.StartedAt = now;
            await Scans.ScanJobsMirror.SyncAsync(db, scan, cancellationToken);
        }
        var tasks = anyQueued ? (await LeaseTasksAsync([(agentId, freeSlots)], now, cancellationToken))[0] : [];
        await Runs.RunProgress.SaveChangesAsync(db, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (tasks.Count > 0)
        {
            LogLeased(logger, agentId, tasks.Count);
        }
        return (tasks, scans.Select(s => new ScanOrder(s.Id)).ToList());
    }

    /// <summary>
    /// The claims of many agents in one transaction (<see cref="ClaimGroups"/>), each as <see cref="ClaimAsync"/>
    /// would make it on its own, in order: one look says which agents have a queued task (or a pending scan),
    /// their claim locks are taken in one statement, and one read of their queued tasks, one lock of the rows
    /// chosen, one save and one commit serve them all. Returns each claim's tasks; null for a claim left to
    /// make on its own (the agent has a pending scan, or a second claim of the same agent in the group).
    /// </summary>
    public async Task<List<DeviceTask>?[]> ClaimGroupAsync(IReadOnlyList<(Guid AgentId, int FreeSlots)> group, CancellationToken cancellationToken)
    {
        var answers = new List<DeviceTask>?[group.Count];
        var ids = group.Select(c => c.AgentId).Distinct().ToList();
        var looks = await db.Agents.AsNoTracking()
            .Where(a => ids.Contains(a.Id))
            .Select(a => new
            {
                a.Id,
                Scans = db.ScanJobs.Any(s => s.AgentId == a.Id && s.Status == ScanStatus.Pending),
                Queued = db.RunDeviceStates.Any(s => s.AgentId == a.Id && s.Status == DeviceRunStatus.Queued),
            })
            .ToDictionaryAsync(a => a.Id, cancellationToken);
        var claiming = new List<(Guid AgentId, int FreeSlots)>();
        var members = new Dictionary<Guid, int>();
        for (var i = 0; i < group.Count; i++)
        {
            var (agentId, freeSlots) = group[i];
            var look = looks.GetValueOrDefault(agentId);
            if (look?.Scans == true || members.ContainsKey(agentId))
            {
                continue; // null: on its own
            }
            members[agentId] = i;
            answers[i] = [];
            if (freeSlots > 0 && look?.Queued == true)
            {
                claiming.Add((agentId, freeSlots));
            }
        }
        if (claiming.Count == 0)
        {
            return answers;
        }
        db.ChangeTracker.Clear();
        await using var transaction = await db.BeginSharedLockedTransactionAsync(HarnessLock.Dispatch, cancellationToken);
        await db.LockKeysAsync(KeyedLock.AgentClaims, claiming.Select(c => c.AgentId), cancellationToken);
        var now = time.GetUtcNow();
        var leased = await LeaseTasksAsync(claiming, now, cancellationToken);
        await Runs.RunProgress.SaveChangesAsync(db, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        for (var c = 0; c < claiming.Count; c++)
        {
            answers[members[claiming[c].AgentId]] = leased[c];
            if (leased[c].Count > 0)
            {
                LogLeased(logger, claiming[c].AgentId, leased[c].Count);
            }
        }
        return answers;
    }

    /// <summary>
    /// Two reads, three with a run of bounded concurrency: the agents' queued tasks on keys alone, with what
    /// the choice needs of their run and device (and whether the device is busy); the tasks in progress of
    /// bounded runs; and the chosen rows, with their compiled workflows, to lease. The claims choose in order,
    /// each up to its free slots, and share the runs' slots. Returns each claim's tasks, in order.
    /// </summary>
    private async Task<List<DeviceTask>[]> LeaseTasksAsync(IReadOnlyList<(Guid AgentId, int FreeSlots)> claims, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var dispatch = options.Value.Dispatch;
        var leased = claims.Select(_ => new List<DeviceTask>()).ToArray();
        var queued = await db.QueuedTasksAsync(claims.Select(c => c.AgentId).ToList(), cancellationToken);
        if (queued.Count == 0)
        {
            return leased;
        }
        // A device is busy if it has a task in progress. Read with the candidates, under its agent's claim lock:
        // only that agent's claims start tasks on its devices, and a task that ended since is only a turn missed.
        var busy = queued.Where(q => q.DeviceBusy).Select(q => q.DeviceId).ToHashSet(StringComparer.Ordinal);
        // A run whose concurrency is below its devices is counted, then filled, by one claim at a time; the count
        // below is read after the lock, so it sees every claim of the run that held it before. Any other run
        // cannot be full while it has a queued task, so its tasks in progress are not counted.
        var runIds = queued.Where(q => q.Bounded).Select(q => q.RunId).Distinct().ToList();
        var active = new Dictionary<Guid, int>();
        if (runIds.Count > 0)
        {
            await db.LockKeysAsync(KeyedLock.RunSlots, runIds, cancellationToken);
            active = (await db.RunDeviceStates.AsNoTracking()
                    .Where(s => runIds.Contains(s.RunId)
                        && (s.Status == DeviceRunStatus.Dispatched || s.Status == DeviceRunStatus.Preflight || s.Status == DeviceRunStatus.Running || s.Status == DeviceRunStatus.Waiting))
                    .GroupBy(s => s.RunId)
                    .Select(g => new { RunId = g.Key, Count = g.Count() })
                    .ToListAsync(cancellationToken))
                .ToDictionary(g => g.RunId, g => g.Count);
        }

        var chosen = new List<(int Claim, QueuedTask Task)>();
        var unrunnable = new List<(QueuedTask Task, string Reason)>();
        var byAgent = queued.ToLookup(q => q.AgentId);
        for (var c = 0; c < claims.Count; c++)
        {
            var taken = 0;
            // Oldest run first (FIFO per device); within a run, by index_no, so devices take turns.
            foreach (var q in byAgent[claims[c].AgentId].OrderBy(q => q.RunCreatedAt).ThenBy(q => q.RunId)
                         .ThenBy(q => q.IndexNo ?? int.MaxValue).ThenBy(q => q.DeviceId, StringComparer.Ordinal))
            {
                if (taken >= claims[c].FreeSlots)
                {
                    break;
                }
                if (busy.Contains(q.DeviceId) || active.GetValueOrDefault(q.RunId) >= q.Concurrency)
                {
                    continue;
                }
                if (!q.DeviceExists || q.Quarantined)
                {
                    // Deleted or quarantined since the run was created: it cannot run here.
                    unrunnable.Add((q, q.DeviceExists ? FailureReasons.Quarantined : FailureReasons.Offline));
                    continue;
                }
                chosen.Add((c, q));
                taken++;
                busy.Add(q.DeviceId);
                active[q.RunId] = active.GetValueOrDefault(q.RunId) + 1;
            }
        }
        if (chosen.Count == 0 && unrunnable.Count == 0)
        {
            return leased;
        }

        // Locked, then read again: a task cancelled or claimed since the first read is no longer queued, and is left.
        var keys = chosen.Select(c => c.Task).Concat(unrunnable.Select(u => u.Task)).Select(c => (c.RunId, c.DeviceId)).ToHashSet();
        var rows = (await db.LockDeviceStatesAsync(keys, cancellationToken))
            .Where(s => s.Status == DeviceRunStatus.Queued)
            .ToDictionary(s => (s.RunId, s.DeviceId));
        foreach (var (task, reason) in unrunnable)
        {
            if (!rows.TryGetValue((task.RunId, task.DeviceId), out var state))
            {
                continue;
            }
            state.Status = DeviceRunStatus.SkippedOffline;
            state.FailureReason = reason;
            state.FinishedAt = now;
            state.UpdatedAt = now;
        }
        foreach (var (claim, c) in chosen)
        {
            if (!rows.TryGetValue((c.RunId, c.DeviceId), out var state))
            {
                continue;
            }
            var workflow = JsonSerializer.Deserialize(state.CompiledWorkflow!, HarnessJsonContext.Default.WorkflowDefinition)!;
            var deadline = now + TaskBudget.Of(workflow, c.StepTimeoutMs, c.UploadTimeoutMs, dispatch);
            metrics.TaskLeased(now - state.UpdatedAt);
            state.Status = DeviceRunStatus.Dispatched;
            state.Attempt++;
            state.LeaseOwner = c.AgentId.ToString();
            state.LeaseExpiresAt = now.AddSeconds(dispatch.LeaseSec);
            state.DeadlineAt = deadline.AddSeconds(dispatch.DeadlineMarginSec);
            state.UpdatedAt = now;
            leased[claim].Add(new DeviceTask(
                c.RunId, state.DeviceId, c.RuntimeHandle ?? c.DeviceId, c.IndexNo, state.Attempt, state.LeaseExpiresAt.Value,
                c.Concurrency, c.Subject ?? "_", workflow, c.StepTimeoutMs, c.UploadTimeoutMs, deadline));
        }
        return leased;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} handed back {Count} unstarted task(s); they are queued again")]
    private static partial void LogReleased(ILogger logger, Guid agentId, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Claim for agent {AgentId} lost a race with concurrent writes (attempt {Attempt}); retrying")]
    private static partial void LogClaimRetry(ILogger logger, Guid agentId, int attempt, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Claim for agent {AgentId} kept losing races with concurrent writes ({Attempt} attempts); its tasks stay queued for its next look")]
    private static partial void LogClaimGaveUp(ILogger logger, Guid agentId, int attempt, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Leased {Count} task(s) to agent {AgentId}")]
    private static partial void LogLeased(ILogger logger, Guid agentId, int count);
}
