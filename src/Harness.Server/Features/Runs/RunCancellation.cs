using Harness.Contracts.Runs;
using Harness.Server.Data;
using Harness.Server.Features.Audit;
using Harness.Server.Features.Dispatch;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Runs;

/// <summary>Cancels a run: every device that has not ended; agents stop the ones in progress.</summary>
public static class RunCancellation
{
    /// <returns>The cancelled run; or null with a conflict message (already ended), or null twice (no such run).</returns>
    public static async Task<(RunSummary? Summary, string? Conflict)> CancelAsync(
        HarnessDbContext db, TimeProvider time, DispatchSignal signal, Guid runId, string actor, CancellationToken cancellationToken)
    {
        await using (var transaction = await db.BeginLockedTransactionAsync(HarnessLock.Dispatch, cancellationToken))
        {
            var run = await db.Runs.SingleOrDefaultAsync(r => r.Id == runId, cancellationToken);
            if (run is null)
            {
                return (null, null);
            }
            if (RunStatus.IsTerminal(run.Status))
            {
                return (null, $"run {runId} has already ended ({run.Status})");
            }
            var now = time.GetUtcNow();
            var open = await db.RunDeviceStates.Where(s => s.RunId == runId).ToListAsync(cancellationToken);
            foreach (var state in open.Where(s => !DeviceRunStatus.IsTerminal(s.Status)))
            {
                state.Status = DeviceRunStatus.Cancelled;
                state.FailureReason = FailureReasons.Cancelled;
                state.FinishedAt = now;
                state.UpdatedAt = now;
                // No owner: the agent holding it is told to stop at its next pull.
                state.LeaseOwner = null;
                state.LeaseExpiresAt = null;
            }
            run.Status = RunStatus.Cancelled;
            run.FinishedAt = now;
            run.LastErrorMessage = $"cancelled by {actor}";
            AuditLog.Record(db, now, actor, "run.cancelled", runId.ToString());
            await RunProgress.SaveChangesAsync(db, now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        signal.Notify();
        var summaries = await RunViews.SummariesAsync(db, [await db.Runs.AsNoTracking().SingleAsync(r => r.Id == runId, cancellationToken)], cancellationToken);
        return (summaries[0], null);
    }

}
