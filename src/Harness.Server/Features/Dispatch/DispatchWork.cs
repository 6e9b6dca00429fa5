using Harness.Contracts.Dispatch;
using Harness.Contracts.Runs;
using Harness.Server.Data;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Dispatch;

/// <summary>
/// Which agents may have something to lease (a queued task or a pending scan), as one shared read
/// for every waiting pull of this process. A wake-up (<see cref="DispatchSignal"/>) or a re-check
/// used to cost every waiting pull two reads of its own, so idle cost and the herd after each
/// notification grew with the number of agents; now a burst of waiting pulls shares one read, and
/// only the agents it names go on to claim.
/// </summary>
public sealed class DispatchWork(IServiceScopeFactory scopes, DispatchSignal signal, TimeProvider time)
{
    private readonly Lock _gate = new();
    private Snapshot? _current;

    private sealed record Snapshot(long Generation, long Sequence, DateTimeOffset StartedAt, Task<HashSet<Guid>> Agents);

    /// <summary>
    /// Whether a pull just arrived from <paramref name="agentId"/> may have work: its own look when there was
    /// news for this agent since the last shared read began; otherwise the word of a shared read under
    /// <see cref="DispatchSignal.RecheckInterval"/> old (one is started if there is none), which is as fresh
    /// as the re-check a waiting pull makes anyway, so a lost notification costs no more. An idle fleet's
    /// arriving pulls then cost at most one shared read a second between them, not a statement each.
    /// </summary>
    public async Task<bool> MayHaveWorkOnArrivalAsync(Guid agentId, CancellationToken cancellationToken)
    {
        Snapshot? current;
        lock (_gate)
        {
            current = _current;
        }
        if (current is not null && current.Sequence < signal.LastNewsFor(agentId))
        {
            return true;
        }
        return await MayHaveWorkAsync(agentId, signal.Generation, time.GetUtcNow() - DispatchSignal.RecheckInterval, cancellationToken);
    }

    /// <summary>
    /// Whether <paramref name="agentId"/> may have work, from a read that began after
    /// <paramref name="notBefore"/> and saw every change up to signal <paramref name="generation"/>.
    /// </summary>
    public async Task<bool> MayHaveWorkAsync(Guid agentId, long generation, DateTimeOffset notBefore, CancellationToken cancellationToken)
    {
        Snapshot snapshot;
        lock (_gate)
        {
            if (_current is not { } current || current.Generation < generation || current.StartedAt <= notBefore || current.Agents.IsFaulted || current.Agents.IsCanceled)
            {
                // Generation and sequence are read before the query starts: every change they count was committed before the read.
                current = new Snapshot(signal.Generation, signal.Sequence, time.GetUtcNow(), ReadAsync());
                _current = current;
            }
            snapshot = current;
        }
        return (await snapshot.Agents.WaitAsync(cancellationToken)).Contains(agentId);
    }

    private async Task<HashSet<Guid>> ReadAsync()
    {
        await Task.Yield();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HarnessDbContext>();
        // Not the pull's token: the read is shared by every waiting pull, so one leaving must not cancel it.
        var queued = await db.RunDeviceStates.AsNoTracking().Where(s => s.Status == DeviceRunStatus.Queued && s.AgentId != null)
            .Select(s => s.AgentId!.Value).Distinct().ToListAsync(CancellationToken.None);
        var scans = await db.ScanJobs.AsNoTracking().Where(s => s.Status == ScanStatus.Pending)
            .Select(s => s.AgentId).Distinct().ToListAsync(CancellationToken.None);
        return [.. queued, .. scans];
    }
}
