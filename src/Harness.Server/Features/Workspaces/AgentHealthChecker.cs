using Harness.Contracts.Agents;
using Harness.Contracts.Runtime;
using Harness.Contracts.Workspaces;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Agents;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Workspaces;

/// <summary>
/// Probes <c>GET /health</c> of every workspace agent (DESIGN §6): every HealthIntervalSec while it answers;
/// after a failure the wait doubles per failure in a row, up to HealthMaxBackoffSec. After
/// HealthFailureThreshold failures in a row the agent goes to <c>error</c>, and its workspaces with it
/// ("agent X unreachable: …"). When it answers again it is <c>active</c>, and the workspaces the checker put
/// in error are settled from what the agent says of their instances. Heartbeats are not health: an agent
/// that heartbeats but whose Runtime API fails (or reports its backend degraded) is in error all the same.
/// Replicas share the work: an agent is claimed by moving its next_health_at before it is probed.
/// </summary>
public sealed partial class AgentHealthChecker(
    IServiceScopeFactory scopes, TimeProvider time, IOptions<HarnessServerOptions> options, ILogger<AgentHealthChecker> logger) : BackgroundService
{
    private const int Parallelism = 8;
    private readonly SemaphoreSlim _pass = new(1, 1);

    private WorkspaceOptions Options => options.Value.Workspaces;

    // Ticks often enough that an agent is probed close to when it is due.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicLoop.RunAsync(TimeSpan.FromSeconds(Math.Min(5, Options.HealthIntervalSec)), time, CheckAsync, e => LogPassFailed(logger, e), stoppingToken);

    /// <summary>One pass over the agents that are due; returns how many it probed.</summary>
    public async Task<int> CheckAsync(CancellationToken cancellationToken)
    {
        await _pass.WaitAsync(cancellationToken);
        try
        {
            List<(Guid Id, DateTimeOffset? NextHealthAt)> due;
            var now = time.GetUtcNow();
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<HarnessDbContext>();
                var candidates = await db.Agents.AsNoTracking()
                    .Where(a => a.Endpoint != null && (a.Status == AgentStatuses.Active || a.Status == AgentStatuses.Error)
                        && (a.NextHealthAt == null || a.NextHealthAt <= now))
                    .Select(a => new { a.Id, a.NextHealthAt, a.Runtimes })
                    .ToListAsync(cancellationToken);
                due = candidates.Where(a => AgentFields.RunsWorkspaces(a.Runtimes)).Select(a => (a.Id, a.NextHealthAt)).ToList();
            }
            var probed = 0;
            await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (agent, token) =>
            {
                if (await CheckAgentAsync(agent.Id, agent.NextHealthAt, now, token))
                {
                    Interlocked.Increment(ref probed);
                }
            });
            return probed;
        }
        finally
        {
            _pass.Release();
        }
    }

    private async Task<bool> CheckAgentAsync(Guid agentId, DateTimeOffset? observedNext, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HarnessDbContext>();
        // The claim: only the pass that moves next_health_at from what it saw probes the agent.
        var claimUntil = now.AddSeconds(Options.HealthTimeoutSec + Options.HealthIntervalSec);
        var claimed = await db.Agents
            .Where(a => a.Id == agentId && a.NextHealthAt == observedNext)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.NextHealthAt, claimUntil), cancellationToken);
        if (claimed == 0)
        {
            return false;
        }
        var agent = await db.Agents.SingleAsync(a => a.Id == agentId, cancellationToken);
        string? failure;
        try
        {
            var client = await scope.ServiceProvider.GetRequiredService<RuntimeAgents>().ForAsync(db, agent, cancellationToken)
                ?? throw new WorkspaceOperationException("no endpoint");
            using var budget = RuntimeAgents.Budget(Options.HealthTimeoutSec, cancellationToken);
            var health = await client.GetHealthAsync(budget.Token);
            failure = health.Status == RuntimeHealthStatus.Ok ? null : $"the agent reports its runtime {health.Status}: {health.Message ?? "no detail"}";
        }
        catch (Exception e) when (WorkspaceService.IsAgentFailure(e) && !cancellationToken.IsCancellationRequested)
        {
            failure = WorkspaceService.Describe(e, Options.HealthTimeoutSec);
        }

        if (failure is null)
        {
            var recovered = agent.Status == AgentStatuses.Error;
            agent.ConsecutiveHealthFailures = 0;
            agent.LastHealthAt = now;
            agent.NextHealthAt = now.AddSeconds(Options.HealthIntervalSec);
            if (recovered)
            {
                agent.Status = AgentStatuses.Active;
                agent.LastErrorMessage = null;
                LogRecovered(logger, agent.Name);
            }
            await db.SaveChangesAsync(cancellationToken);
            if (recovered)
            {
                await SettleRecoveredAsync(scope.ServiceProvider, db, agent, cancellationToken);
            }
            return true;
        }

        agent.ConsecutiveHealthFailures++;
        agent.NextHealthAt = now.Add(Backoff(agent.ConsecutiveHealthFailures));
        LogFailed(logger, agent.Name, agent.ConsecutiveHealthFailures, failure);
        if (agent.ConsecutiveHealthFailures >= Options.HealthFailureThreshold && agent.Status != AgentStatuses.Error)
        {
            agent.Status = AgentStatuses.Error;
            agent.LastErrorMessage = WorkspaceService.Truncate($"Runtime Agent API failed {agent.ConsecutiveHealthFailures} health checks in a row: {failure}");
            await db.SaveChangesAsync(cancellationToken);
            await FailWorkspacesAsync(db, agent, failure, now, cancellationToken);
            LogAgentError(logger, agent.Name, agent.ConsecutiveHealthFailures);
        }
        else
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        return true;
    }

    /// <summary>The wait after <paramref name="failures"/> failures in a row: the interval doubled per failure, capped.</summary>
    public TimeSpan Backoff(int failures)
    {
        var seconds = Options.HealthIntervalSec * Math.Pow(2, Math.Min(failures, 30));
        return TimeSpan.FromSeconds(Math.Min(seconds, Options.HealthMaxBackoffSec));
    }

    /// <summary>Every workspace still on the agent goes to error, marked as the checker's doing; deleting and archived ones stay.</summary>
    private static async Task FailWorkspacesAsync(HarnessDbContext db, AgentEntity agent, string failure, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var transaction = await db.BeginLockedTransactionAsync(HarnessLock.Workspaces, cancellationToken);
        var workspaces = await db.Workspaces
            .Where(w => w.AgentId == agent.Id && w.Status != WorkspaceStatus.Archived && w.Status != WorkspaceStatus.Deleting && w.Status != WorkspaceStatus.Error)
            .ToListAsync(cancellationToken);
        foreach (var workspace in workspaces)
        {
            WorkspaceService.Fail(workspace, $"agent {agent.Name} unreachable: {failure}", now);
            workspace.ErrorFromHealthCheck = true;
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The agent answers again: the workspaces the checker failed take the state the agent reports for their instances.</summary>
    private async Task SettleRecoveredAsync(IServiceProvider services, HarnessDbContext db, AgentEntity agent, CancellationToken cancellationToken)
    {
        var ids = await db.Workspaces.AsNoTracking()
            .Where(w => w.AgentId == agent.Id && w.Status == WorkspaceStatus.Error && w.ErrorFromHealthCheck)
            .Select(w => w.Id).ToListAsync(cancellationToken);
        if (ids.Count == 0)
        {
            return;
        }
        var client = await services.GetRequiredService<RuntimeAgents>().ForAsync(db, agent, cancellationToken);
        var states = new Dictionary<Guid, InstanceStatus?>();
        foreach (var id in ids)
        {
            try
            {
                using var budget = RuntimeAgents.Budget(Options.HealthTimeoutSec, cancellationToken);
                states[id] = client is null ? null : await client.GetInstanceAsync(id.ToString("D"), budget.Token);
            }
            catch (Exception e) when (WorkspaceService.IsAgentFailure(e) && !cancellationToken.IsCancellationRequested)
            {
                // Left in error (still marked): the next successful check tries again.
                LogSettleFailed(logger, agent.Name, id, WorkspaceService.Describe(e));
            }
        }
        var now = time.GetUtcNow();
        await using var transaction = await db.BeginLockedTransactionAsync(HarnessLock.Workspaces, cancellationToken);
        var workspaces = await db.Workspaces.Where(w => ids.Contains(w.Id) && w.Status == WorkspaceStatus.Error && w.ErrorFromHealthCheck).ToListAsync(cancellationToken);
        foreach (var workspace in workspaces)
        {
            if (states.GetValueOrDefault(workspace.Id) is { } status)
            {
                WorkspaceService.Settle(workspace, status, now, Options.StateDeadlineSec,
                    status.State == InstanceState.NotFound ? $"agent {agent.Name} came back without the instance; start the workspace again" : null);
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Health check of agent {Agent} failed ({Failures} in a row): {Reason}")]
    private static partial void LogFailed(ILogger logger, string agent, int failures, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Agent {Agent} failed {Failures} health checks in a row; it and its workspaces are in error")]
    private static partial void LogAgentError(ILogger logger, string agent, int failures);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {Agent} answers its health check again; it is active")]
    private static partial void LogRecovered(ILogger logger, string agent);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {Agent} is back but the status of workspace {WorkspaceId} could not be read: {Reason}")]
    private static partial void LogSettleFailed(ILogger logger, string agent, Guid workspaceId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Agent health pass failed; retrying at the next tick")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
