using Harness.Contracts.Agents;
using Harness.Contracts.Jobs;
using Harness.Contracts.Runtime;
using Harness.Contracts.Workspaces;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Agents;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Workspaces;

/// <summary>
/// No stuck in-between states (DESIGN §11). Every ReconcileIntervalSec:
/// <list type="number">
/// <item>A workspace past StateDeadlineAt in a transitional state is settled: starting/stopping from the
/// instance state the agent reports; archiving → error and restoring → archived (the job failed);
/// deleting → the delete is tried again.</item>
/// <item>For each active workspace agent, its instances are compared with the database, which holds the
/// desired state: a workspace the database says is running whose instance is gone or stopped becomes
/// stopped (or error) with a message; an instance running for a workspace the database says is stopped or
/// archived is deleted. Instances of workspaces the database does not know are only logged.</item>
/// </list>
/// </summary>
public sealed partial class WorkspaceReconciler(
    IServiceScopeFactory scopes, TimeProvider time, IOptions<HarnessServerOptions> options, ILogger<WorkspaceReconciler> logger) : BackgroundService
{
    private readonly SemaphoreSlim _pass = new(1, 1);

    private WorkspaceOptions Options => options.Value.Workspaces;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicLoop.RunAsync(TimeSpan.FromSeconds(Options.ReconcileIntervalSec), time, ReconcileAsync, e => LogPassFailed(logger, e), stoppingToken);

    /// <summary>One pass; returns how many workspaces it changed.</summary>
    public async Task<int> ReconcileAsync(CancellationToken cancellationToken)
    {
        await _pass.WaitAsync(cancellationToken);
        try
        {
            return await SettleOverdueAsync(cancellationToken) + await CompareInstancesAsync(cancellationToken);
        }
        finally
        {
            _pass.Release();
        }
    }

    private async Task<int> SettleOverdueAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HarnessDbContext>();
        var now = time.GetUtcNow();
        var overdue = await db.Workspaces.AsNoTracking()
            .Where(w => w.StateDeadlineAt < now && (w.Status == WorkspaceStatus.Pending || w.Status == WorkspaceStatus.Starting
                || w.Status == WorkspaceStatus.Stopping || w.Status == WorkspaceStatus.Archiving || w.Status == WorkspaceStatus.Restoring
                || w.Status == WorkspaceStatus.Deleting))
            .Select(w => w.Id)
            .ToListAsync(cancellationToken);
        var changed = 0;
        foreach (var id in overdue)
        {
            await using var itemScope = scopes.CreateAsyncScope();
            if (await SettleAsync(itemScope.ServiceProvider, id, cancellationToken))
            {
                changed++;
            }
        }
        return changed;
    }

    private async Task<bool> SettleAsync(IServiceProvider services, Guid workspaceId, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<HarnessDbContext>();
        var workspace = await db.Workspaces.SingleOrDefaultAsync(w => w.Id == workspaceId, cancellationToken);
        if (workspace is null)
        {
            return false;
        }
        var observed = workspace.Status;
        var agent = workspace.AgentId is { } agentId ? await db.Agents.SingleOrDefaultAsync(a => a.Id == agentId, cancellationToken) : null;
        LogOverdue(logger, workspace.Name, workspace.Id, observed);
        if (observed == WorkspaceStatus.Deleting && agent is not null)
        {
            await services.GetRequiredService<WorkspaceService>().DeleteOnAgentAsync(workspace, agent, cancellationToken);
            return true;
        }

        InstanceStatus? status = null;
        string? failure = null;
        if (agent is null)
        {
            failure = "its agent was removed";
        }
        else if (observed is WorkspaceStatus.Starting or WorkspaceStatus.Stopping or WorkspaceStatus.Pending)
        {
            try
            {
                var client = await services.GetRequiredService<RuntimeAgents>().ForAsync(db, agent, cancellationToken)
                    ?? throw new WorkspaceOperationException("no endpoint");
                using var budget = RuntimeAgents.Budget(Options.AgentCallTimeoutSec, cancellationToken);
                status = await client.GetInstanceAsync(workspace.RuntimeId(), budget.Token);
            }
            catch (Exception e) when (WorkspaceService.IsAgentFailure(e) && !cancellationToken.IsCancellationRequested)
            {
                failure = $"agent '{agent.Name}' did not say how the instance is: {WorkspaceService.Describe(e, Options.AgentCallTimeoutSec)}";
            }
        }

        var now = time.GetUtcNow();
        await using var transaction = await db.BeginLockedTransactionAsync(HarnessLock.Workspaces, cancellationToken);
        await db.Entry(workspace).ReloadAsync(cancellationToken);
        if (db.Entry(workspace).State == EntityState.Detached || workspace.Status != observed || !(workspace.StateDeadlineAt < now))
        {
            return false;
        }
        var late = $"{observed} did not finish by {workspace.StateDeadlineAt:yyyy-MM-ddTHH:mm:ssZ}";
        if (observed == WorkspaceStatus.Deleting)
        {
            // The agent row is gone: nothing left to reach.
            db.Workspaces.Remove(workspace);
        }
        else if (failure is not null)
        {
            WorkspaceService.Fail(workspace, $"{late}; {failure}", now);
        }
        else if (observed is WorkspaceStatus.Archiving)
        {
            WorkspaceService.Fail(workspace, $"{late}; the archive job did not complete (the volume is kept; start or archive again)", now);
            await FailJobsAsync(db, workspace, late, now, cancellationToken);
        }
        else if (observed is WorkspaceStatus.Restoring)
        {
            workspace.Status = WorkspaceStatus.Archived;
            workspace.StateDeadlineAt = null;
            workspace.LastErrorMessage = $"{late}; the restore job did not complete (the archive is intact; restore again)";
            workspace.UpdatedAt = now;
            await FailJobsAsync(db, workspace, late, now, cancellationToken);
        }
        else if (status!.State == InstanceState.Starting)
        {
            WorkspaceService.Fail(workspace, $"{late}; the instance is still starting on agent '{agent!.Name}'", now);
        }
        else
        {
            WorkspaceService.Settle(workspace, status, now, Options.StateDeadlineSec,
                observed == WorkspaceStatus.Stopping ? null : $"{late}; the instance is {Name(status.State)} on agent '{agent!.Name}'");
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private static async Task FailJobsAsync(HarnessDbContext db, WorkspaceEntity workspace, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var id = workspace.Id.ToString("D");
        foreach (var job in await db.Jobs.Where(j => j.WorkspaceId == id && j.Status == JobStatusNames.Running).ToListAsync(cancellationToken))
        {
            job.Status = JobStatusNames.Failed;
            job.FinishedAt = now;
            job.LastErrorMessage = reason;
        }
    }

    private async Task<int> CompareInstancesAsync(CancellationToken cancellationToken)
    {
        List<Guid> agentIds;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<HarnessDbContext>();
            var agents = await db.Agents.AsNoTracking()
                .Where(a => a.Status == AgentStatuses.Active && a.Endpoint != null)
                .Select(a => new { a.Id, a.Runtimes }).ToListAsync(cancellationToken);
            agentIds = agents.Where(a => AgentFields.RunsWorkspaces(a.Runtimes)).Select(a => a.Id).ToList();
        }
        var changed = 0;
        foreach (var agentId in agentIds)
        {
            await using var scope = scopes.CreateAsyncScope();
            changed += await CompareAgentAsync(scope.ServiceProvider, agentId, cancellationToken);
        }
        return changed;
    }

    private async Task<int> CompareAgentAsync(IServiceProvider services, Guid agentId, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<HarnessDbContext>();
        var agent = await db.Agents.AsNoTracking().SingleAsync(a => a.Id == agentId, cancellationToken);
        var client = await services.GetRequiredService<RuntimeAgents>().ForAsync(db, agent, cancellationToken);
        if (client is null)
        {
            return 0;
        }
        // The agent's list is read before the database, so a workspace that changed in between shows as changed
        // (its updated_at is later than the list) and is left for the next pass.
        var listedAt = time.GetUtcNow();
        Dictionary<string, InstanceStatus> instances;
        try
        {
            using var budget = RuntimeAgents.Budget(Options.AgentCallTimeoutSec, cancellationToken);
            instances = (await client.ListInstancesAsync(null, budget.Token)).Instances
                .GroupBy(i => i.WorkspaceId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        }
        catch (Exception e) when (WorkspaceService.IsAgentFailure(e) && !cancellationToken.IsCancellationRequested)
        {
            // The health checker owns unreachable agents.
            LogListFailed(logger, agent.Name, WorkspaceService.Describe(e));
            return 0;
        }

        var known = await db.Workspaces.AsNoTracking().Where(w => w.AgentId == agentId)
            .Select(w => new { w.Id, w.Status, w.UpdatedAt }).ToListAsync(cancellationToken);
        var byRuntimeId = known.ToDictionary(w => w.Id.ToString("D"), StringComparer.Ordinal);
        foreach (var unknown in instances.Keys.Where(k => !byRuntimeId.ContainsKey(k)))
        {
            LogUnknownInstance(logger, agent.Name, unknown);
        }

        var changed = 0;
        var now = time.GetUtcNow();
        foreach (var workspace in known.Where(w => w.UpdatedAt < listedAt))
        {
            var instance = instances.GetValueOrDefault(workspace.Id.ToString("D"));
            var state = instance?.State ?? InstanceState.NotFound;
            if (workspace.Status == WorkspaceStatus.Running && state is not (InstanceState.Running or InstanceState.Starting))
            {
                var message = state == InstanceState.NotFound
                    ? $"the instance disappeared from agent '{agent.Name}' (found by the reconciler at {now:yyyy-MM-ddTHH:mm:ssZ}); start the workspace again"
                    : $"the instance is {Name(state)} on agent '{agent.Name}'{(instance?.Message is { } m ? $": {m}" : "")}";
                if (await UpdateIfUnchangedAsync(db, workspace.Id, WorkspaceStatus.Running, listedAt, w =>
                    WorkspaceService.Settle(w, instance ?? new InstanceStatus(w.RuntimeId(), InstanceState.NotFound), now, Options.StateDeadlineSec, message), cancellationToken))
                {
                    LogDrift(logger, agent.Name, workspace.Id, message);
                    changed++;
                }
            }
            else if (workspace.Status is WorkspaceStatus.Stopped or WorkspaceStatus.Archived && state is InstanceState.Running or InstanceState.Starting)
            {
                // The database holds the desired state: an instance nobody asked for is removed.
                try
                {
                    using var budget = RuntimeAgents.Budget(Options.AgentCallTimeoutSec, cancellationToken);
                    await client.DeleteInstanceAsync(workspace.Id.ToString("D"), budget.Token);
                    LogDrift(logger, agent.Name, workspace.Id, $"an instance ran for a workspace that is {workspace.Status}; deleted it");
                    changed++;
                }
                catch (Exception e) when (WorkspaceService.IsAgentFailure(e) && !cancellationToken.IsCancellationRequested)
                {
                    LogListFailed(logger, agent.Name, WorkspaceService.Describe(e));
                }
            }
        }
        return changed;
    }

    private static async Task<bool> UpdateIfUnchangedAsync(
        HarnessDbContext db, Guid id, string status, DateTimeOffset before, Action<WorkspaceEntity> apply, CancellationToken cancellationToken)
    {
        await using var transaction = await db.BeginLockedTransactionAsync(HarnessLock.Workspaces, cancellationToken);
        var workspace = await db.Workspaces.SingleOrDefaultAsync(w => w.Id == id, cancellationToken);
        if (workspace is null || workspace.Status != status || workspace.UpdatedAt >= before)
        {
            return false;
        }
        apply(workspace);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private static string Name(InstanceState state) => state switch
    {
        InstanceState.Starting => "starting",
        InstanceState.Running => "running",
        InstanceState.Stopped => "stopped",
        InstanceState.Error => "error",
        _ => "not found",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {Name} ({WorkspaceId}) passed the deadline of {Status}; settling it")]
    private static partial void LogOverdue(ILogger logger, string name, Guid workspaceId, string status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {Agent}, workspace {WorkspaceId}: {What}")]
    private static partial void LogDrift(ILogger logger, string agent, Guid workspaceId, string what);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {Agent} runs instance {WorkspaceId}, which no workspace of this server owns; left alone")]
    private static partial void LogUnknownInstance(ILogger logger, string agent, string workspaceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciler could not reach agent {Agent}: {Reason}")]
    private static partial void LogListFailed(ILogger logger, string agent, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Workspace reconcile pass failed; retrying at the next interval")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
