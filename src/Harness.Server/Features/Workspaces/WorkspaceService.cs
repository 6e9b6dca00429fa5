using System.Text.Json;
using Harness.Client;
using Harness.Contracts.Jobs;
using Harness.Contracts.Runtime;
using Harness.Contracts.Workspaces;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Artifacts;
using Harness.Server.Features.Audit;
using Harness.Server.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Workspaces;

/// <summary>The result of a workspace operation: the workspace as it ended, or a problem that changed nothing.</summary>
public sealed record WorkspaceOutcome(WorkspaceEntity? Workspace, IResult? Problem, bool Removed = false)
{
    public static WorkspaceOutcome Refused(IResult problem) => new(null, problem);
}

/// <summary>
/// Workspace operations. Each one takes its transitional state under <see cref="HarnessLock.Workspaces"/>
/// (so concurrent operations on one workspace refuse each other and placements never overbook an agent),
/// makes its Runtime Agent API calls outside any transaction with a timeout, and writes the final state
/// (or <c>error</c> with last_error_message) only if nothing else moved the workspace meanwhile. A
/// transition that never finishes is settled by <see cref="WorkspaceReconciler"/> after StateDeadlineAt.
/// </summary>
public sealed partial class WorkspaceService(
    HarnessDbContext db, RuntimeAgents agents, IArtifactStore store, TimeProvider time, IOptions<HarnessServerOptions> options, ILogger<WorkspaceService> logger)
{
    private WorkspaceOptions Options => options.Value.Workspaces;

    public async Task<WorkspaceOutcome> CreateAsync(CreateWorkspaceRequest request, string actor, CancellationToken cancellationToken)
    {
        var labels = request.Labels ?? new Dictionary<string, string>();
        WorkspaceEntity workspace;
        AgentEntity agent;
        await using (var transaction = await db.BeginLockedTransactionAsync(HarnessLock.Workspaces, cancellationToken))
        {
            if (await db.Workspaces.AnyAsync(w => w.Name == request.Name, cancellationToken))
            {
                return WorkspaceOutcome.Refused(Problems.Conflict("name", $"a workspace named '{request.Name}' exists; choose another name or delete it first"));
            }
            var (placed, problem) = request.AgentId is { } agentRef
                ? await WorkspacePlacement.NamedAsync(db, agentRef, cancellationToken)
                : await WorkspacePlacement.ChooseAsync(db, request.Region, labels, cancellationToken);
            if (placed is null)
            {
                return WorkspaceOutcome.Refused(problem!);
            }
            agent = placed;
            var now = time.GetUtcNow();
            var id = Guid.CreateVersion7(now);
            workspace = new WorkspaceEntity
            {
                Id = id,
                Name = request.Name!,
                Image = request.Image!,
                AgentId = agent.Id,
                Volume = Runtimes.WorkspaceIds.VolumeName(id.ToString("D")),
                Status = WorkspaceStatus.Starting,
                Region = request.Region ?? agent.Region,
                Labels = Agents.AgentFields.SerializeLabels(labels),
                Port = request.Port ?? WorkspaceFields.DefaultPort,
                Cpu = request.Cpu,
                MemoryMb = request.MemoryMb,
                Env = WorkspaceFields.SerializeEnv(request.Env),
                StateDeadlineAt = now.AddSeconds(Options.StateDeadlineSec),
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.Workspaces.Add(workspace);
            AuditLog.Record(db, now, actor, "workspace.created", workspace.Name, new { workspace_id = id, agent = agent.Name, image = workspace.Image });
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        LogPlaced(logger, workspace.Name, workspace.Id, agent.Name);
        return await RunOnAgentAsync(workspace, agent, WorkspaceStatus.Starting, "start", async (client, token) =>
        {
            await client.CreateVolumeAsync(workspace.RuntimeId(), token);
            return await StartInstanceAsync(client, workspace, token);
        }, cancellationToken);
    }

    public async Task<WorkspaceOutcome> StartAsync(string workspaceRef, string actor, CancellationToken cancellationToken)
    {
        var (begun, agent, problem) = await BeginAsync(workspaceRef, WorkspaceStatus.Starting, "start",
            [WorkspaceStatus.Stopped, WorkspaceStatus.Error], actor, cancellationToken);
        if (problem is not null)
        {
            return WorkspaceOutcome.Refused(problem);
        }
        var workspace = begun!;
        return await RunOnAgentAsync(workspace, agent!, WorkspaceStatus.Starting, "start", async (client, token) =>
        {
            var volume = await client.VolumeExistsAsync(workspace.RuntimeId(), token);
            if (!volume.Exists)
            {
                throw new WorkspaceOperationException(
                    $"the volume is gone from agent '{agent!.Name}'; restore the workspace from its archive or delete it");
            }
            return await StartInstanceAsync(client, workspace, token);
        }, cancellationToken);
    }

    /// <summary>
    /// Stops the instance and keeps the volume (→ stopped), from running, starting or error. Idle auto-stop
    /// calls this too, with its <paramref name="reason"/> (recorded in the audit log), e.g.
    /// <c>StopAsync(id.ToString(), "system:idle-stop", "idle for 30 min", ct)</c>; a workspace in another
    /// state comes back as a 409 problem and is left alone.
    /// </summary>
    public async Task<WorkspaceOutcome> StopAsync(string workspaceRef, string actor, string? reason, CancellationToken cancellationToken)
    {
        var (begun, agent, problem) = await BeginAsync(workspaceRef, WorkspaceStatus.Stopping, "stop",
            [WorkspaceStatus.Running, WorkspaceStatus.Starting, WorkspaceStatus.Error], actor, cancellationToken, reason);
        if (problem is not null)
        {
            return WorkspaceOutcome.Refused(problem);
        }
        var workspace = begun!;
        return await RunOnAgentAsync(workspace, agent!, WorkspaceStatus.Stopping, "stop", async (client, token) =>
        {
            await client.DeleteInstanceAsync(workspace.RuntimeId(), token);
            return new InstanceStatus(workspace.RuntimeId(), InstanceState.NotFound);
        }, cancellationToken);
    }

    /// <summary>
    /// Deletes the instance and the volume on the agent, then the row (and the workspace's archives). When
    /// the agent cannot be reached the workspace stays <c>deleting</c> and the reconciler retries;
    /// <paramref name="force"/> removes the row without the agent (its resources are left behind).
    /// </summary>
    public async Task<WorkspaceOutcome> DeleteAsync(string workspaceRef, bool force, string actor, CancellationToken cancellationToken)
    {
        WorkspaceEntity? workspace;
        AgentEntity? agent;
        await using (var transaction = await db.BeginLockedTransactionAsync(HarnessLock.Workspaces, cancellationToken))
        {
            workspace = await FindAsync(workspaceRef, cancellationToken);
            if (workspace is null)
            {
                return WorkspaceOutcome.Refused(NotFound(workspaceRef));
            }
            agent = workspace.AgentId is { } agentId ? await db.Agents.SingleOrDefaultAsync(a => a.Id == agentId, cancellationToken) : null;
            var now = time.GetUtcNow();
            if (!force && WorkspaceStatus.IsTransitional(workspace.Status) && workspace.Status != WorkspaceStatus.Deleting && workspace.StateDeadlineAt > now)
            {
                return WorkspaceOutcome.Refused(Busy(workspace, "delete"));
            }
            // Nothing of an archived workspace is on an agent; an agent that was removed holds nothing we can reach.
            if (force || agent is null || workspace.Status == WorkspaceStatus.Archived)
            {
                AuditLog.Record(db, now, actor, force ? "workspace.force_deleted" : "workspace.deleted", workspace.Name, new { workspace_id = workspace.Id });
                await RemoveAsync(workspace, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return new WorkspaceOutcome(workspace, null, Removed: true);
            }
            workspace.Status = WorkspaceStatus.Deleting;
            workspace.StateDeadlineAt = now.AddSeconds(Options.StateDeadlineSec);
            workspace.UpdatedAt = now;
            AuditLog.Record(db, now, actor, "workspace.deleting", workspace.Name, new { workspace_id = workspace.Id, agent = agent.Name });
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        return await DeleteOnAgentAsync(workspace, agent, cancellationToken);
    }

    /// <summary>One attempt at removing a <c>deleting</c> workspace's resources; the reconciler calls it again.</summary>
    internal async Task<WorkspaceOutcome> DeleteOnAgentAsync(WorkspaceEntity workspace, AgentEntity agent, CancellationToken cancellationToken)
    {
        string? failure = null;
        try
        {
            var client = await agents.ForAsync(db, agent, cancellationToken) ?? throw new WorkspaceOperationException($"agent '{agent.Name}' has no endpoint");
            using var budget = RuntimeAgents.Budget(Options.AgentCallTimeoutSec, CancellationToken.None);
            await client.DeleteInstanceAsync(workspace.RuntimeId(), budget.Token);
            await client.DeleteVolumeAsync(workspace.RuntimeId(), budget.Token);
        }
        catch (Exception e) when (IsAgentFailure(e))
        {
            failure = $"agent '{agent.Name}': delete failed: {Describe(e)}; the reconciler retries (DELETE with ?force=true removes the workspace without the agent)";
        }
        await using var transaction = await db.BeginLockedTransactionAsync(HarnessLock.Workspaces, cancellationToken);
        await db.Entry(workspace).ReloadAsync(cancellationToken);
        if (db.Entry(workspace).State == EntityState.Detached || workspace.Status != WorkspaceStatus.Deleting)
        {
            await transaction.CommitAsync(cancellationToken);
            return new WorkspaceOutcome(workspace, null, Removed: db.Entry(workspace).State == EntityState.Detached);
        }
        var now = time.GetUtcNow();
        if (failure is not null)
        {
            LogOperationFailed(logger, workspace.Name, workspace.Id, "delete", failure);
            workspace.LastErrorMessage = Truncate(failure);
            workspace.StateDeadlineAt = now.AddSeconds(Options.StateDeadlineSec);
            workspace.UpdatedAt = now;
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new WorkspaceOutcome(workspace, null);
        }
        await RemoveAsync(workspace, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new WorkspaceOutcome(workspace, null, Removed: true);
    }

    /// <summary>
    /// Stops the instance, has the agent upload the volume as a tar.gz to the server's artifact store
    /// (<c>workspaces/{workspace_id}/{archive_id}.tar.gz</c>), then deletes the volume: → archived.
    /// </summary>
    public async Task<WorkspaceOutcome> ArchiveAsync(string workspaceRef, string actor, CancellationToken cancellationToken)
    {
        var (workspace, agent, problem) = await BeginAsync(workspaceRef, WorkspaceStatus.Archiving, "archive",
            [WorkspaceStatus.Running, WorkspaceStatus.Stopped], actor, cancellationToken);
        if (problem is not null)
        {
            return WorkspaceOutcome.Refused(problem);
        }
        var now = time.GetUtcNow();
        var archive = new WorkspaceArchiveEntity
        {
            Id = Guid.CreateVersion7(now),
            WorkspaceId = workspace!.Id,
            AgentId = agent!.Id,
            Status = WorkspaceArchiveStatus.Pending,
            StoragePath = "",
            CreatedAt = now,
        };
        archive.StoragePath = WorkspaceArchives.StoragePath(workspace.Id, archive.Id);
        var job = NewJob(JobTypeNames.Archive, workspace, agent, archive.Id, actor, now);
        archive.JobId = job.Id;
        db.WorkspaceArchives.Add(archive);
        db.Jobs.Add(job);
        await db.SaveChangesAsync(cancellationToken);

        var outcome = await RunOnAgentAsync(workspace, agent, WorkspaceStatus.Archiving, "archive", async (client, token) =>
        {
            await client.DeleteInstanceAsync(workspace.RuntimeId(), token);
            var result = await client.ArchiveAsync(workspace.RuntimeId(), archive.Id.ToString("D"), token);
            await db.Entry(archive).ReloadAsync(token);
            if (archive.Status != WorkspaceArchiveStatus.Stored)
            {
                throw new WorkspaceOperationException($"agent '{agent.Name}' reported the archive {result.Status} but never uploaded it");
            }
            await client.DeleteVolumeAsync(workspace.RuntimeId(), token);
            return null;
        }, cancellationToken, Options.ArchiveTimeoutSec, ws =>
        {
            ws.Status = WorkspaceStatus.Archived;
            ws.Upstream = null;
            ws.ArchiveId = archive.Id;
            ws.ArchivedAt = time.GetUtcNow();
        });
        await FinishJobAsync(job, outcome, new { archive_id = archive.Id, bytes = archive.Bytes, sha256 = archive.Sha256 }, cancellationToken);
        return outcome;
    }

    /// <summary>
    /// Recreates the volume from the workspace's archive, on its agent when that agent can take it,
    /// else on an agent chosen as for a new workspace: → stopped, or running with <paramref name="start"/>.
    /// A failed restore leaves the workspace archived (the archive is intact) with the reason.
    /// </summary>
    public async Task<WorkspaceOutcome> RestoreAsync(string workspaceRef, bool start, string actor, CancellationToken cancellationToken)
    {
        WorkspaceEntity? workspace;
        AgentEntity agent;
        WorkspaceArchiveEntity? archive;
        JobEntity job;
        await using (var transaction = await db.BeginLockedTransactionAsync(HarnessLock.Workspaces, cancellationToken))
        {
            workspace = await FindAsync(workspaceRef, cancellationToken);
            if (workspace is null)
            {
                return WorkspaceOutcome.Refused(NotFound(workspaceRef));
            }
            if (workspace.Status != WorkspaceStatus.Archived)
            {
                return WorkspaceOutcome.Refused(Problems.Conflict("status", $"workspace '{workspace.Name}' is {workspace.Status}; only an archived workspace can be restored"));
            }
            archive = workspace.ArchiveId is { } archiveId ? await db.WorkspaceArchives.SingleOrDefaultAsync(a => a.Id == archiveId, cancellationToken) : null;
            if (archive is not { Status: WorkspaceArchiveStatus.Stored })
            {
                return WorkspaceOutcome.Refused(Problems.Conflict("archive_id", $"workspace '{workspace.Name}' has no stored archive to restore from; delete it"));
            }
            var previous = workspace.AgentId is { } agentId ? await db.Agents.SingleOrDefaultAsync(a => a.Id == agentId, cancellationToken) : null;
            var loads = await WorkspacePlacement.LoadsAsync(db, cancellationToken);
            if (previous is not null && WorkspacePlacement.Unfit(previous, loads.GetValueOrDefault(previous.Id)) is null)
            {
                agent = previous;
            }
            else
            {
                var (placed, problem) = await WorkspacePlacement.ChooseAsync(db, workspace.Region, Agents.AgentFields.DeserializeLabels(workspace.Labels), cancellationToken);
                if (placed is null)
                {
                    return WorkspaceOutcome.Refused(problem!);
                }
                agent = placed;
            }
            var now = time.GetUtcNow();
            workspace.AgentId = agent.Id;
            workspace.Status = WorkspaceStatus.Restoring;
            workspace.StateDeadlineAt = now.AddSeconds(Options.ArchiveTimeoutSec);
            workspace.LastErrorMessage = null;
            workspace.ErrorFromHealthCheck = false;
            workspace.UpdatedAt = now;
            archive.RestoreAgentId = agent.Id;
            job = NewJob(JobTypeNames.Restore, workspace, agent, archive.Id, actor, now);
            db.Jobs.Add(job);
            AuditLog.Record(db, now, actor, "workspace.restore", workspace.Name, new { workspace_id = workspace.Id, agent = agent.Name, archive_id = archive.Id, start });
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        var outcome = await RunOnAgentAsync(workspace, agent, WorkspaceStatus.Restoring, "restore", async (client, token) =>
        {
            await client.RestoreAsync(workspace.RuntimeId(), archive.Id.ToString("D"), token);
            return start ? await StartInstanceAsync(client, workspace, token) : new InstanceStatus(workspace.RuntimeId(), InstanceState.NotFound);
        }, cancellationToken, Options.ArchiveTimeoutSec, onFailure: ws =>
        {
            ws.Status = WorkspaceStatus.Archived;
        });
        await FinishJobAsync(job, outcome, new { archive_id = archive.Id, start }, cancellationToken);
        return outcome;
    }

    public async Task<WorkspaceEntity?> FindAsync(string workspaceRef, CancellationToken cancellationToken) =>
        Guid.TryParse(workspaceRef, out var id)
            ? await db.Workspaces.SingleOrDefaultAsync(w => w.Id == id, cancellationToken)
            : await db.Workspaces.SingleOrDefaultAsync(w => w.Name == workspaceRef, cancellationToken);

    internal static ProblemHttpResult NotFound(string workspaceRef) =>
        Problems.Field(StatusCodes.Status404NotFound, "Not found", "workspace", $"no workspace '{workspaceRef}' (GET /api/workspaces lists them)");

    private static ProblemHttpResult Busy(WorkspaceEntity workspace, string operation) =>
        Problems.Conflict("status", $"workspace '{workspace.Name}' is {workspace.Status} until {workspace.StateDeadlineAt:yyyy-MM-ddTHH:mm:ssZ}; {operation} it when that ends");

    /// <summary>Moves the workspace into <paramref name="transitional"/> if its status allows <paramref name="operation"/>.</summary>
    private async Task<(WorkspaceEntity?, AgentEntity?, IResult?)> BeginAsync(
        string workspaceRef, string transitional, string operation, string[] allowedFrom, string actor, CancellationToken cancellationToken, string? reason = null)
    {
        await using var transaction = await db.BeginLockedTransactionAsync(HarnessLock.Workspaces, cancellationToken);
        var workspace = await FindAsync(workspaceRef, cancellationToken);
        if (workspace is null)
        {
            return (null, null, NotFound(workspaceRef));
        }
        if (!allowedFrom.Contains(workspace.Status))
        {
            return (null, null, WorkspaceStatus.IsTransitional(workspace.Status)
                ? Busy(workspace, operation)
                : Problems.Conflict("status", $"workspace '{workspace.Name}' is {workspace.Status}; {operation} needs it {string.Join(" or ", allowedFrom)}"));
        }
        var agent = workspace.AgentId is { } agentId ? await db.Agents.SingleOrDefaultAsync(a => a.Id == agentId, cancellationToken) : null;
        if (agent is null)
        {
            return (null, null, Problems.Conflict("agent_id", $"the agent of workspace '{workspace.Name}' was removed; delete the workspace"));
        }
        var now = time.GetUtcNow();
        workspace.Status = transitional;
        workspace.StateDeadlineAt = now.AddSeconds(transitional is WorkspaceStatus.Archiving ? Options.ArchiveTimeoutSec : Options.StateDeadlineSec);
        workspace.ErrorFromHealthCheck = false;
        workspace.UpdatedAt = now;
        AuditLog.Record(db, now, actor, $"workspace.{operation}", workspace.Name, new { workspace_id = workspace.Id, agent = agent.Name, reason });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (workspace, agent, null);
    }

    /// <summary>
    /// Runs <paramref name="call"/> against the agent with a timeout and writes the outcome, if the workspace
    /// is still <paramref name="transitional"/>: the instance state it returned (or <paramref name="onSuccess"/>),
    /// else <c>error</c> (or <paramref name="onFailure"/>) with the reason.
    /// </summary>
    private async Task<WorkspaceOutcome> RunOnAgentAsync(
        WorkspaceEntity workspace, AgentEntity agent, string transitional, string operation,
        Func<RuntimeAgentClient, CancellationToken, Task<InstanceStatus?>> call, CancellationToken cancellationToken,
        int? timeoutSec = null, Action<WorkspaceEntity>? onSuccess = null, Action<WorkspaceEntity>? onFailure = null)
    {
        InstanceStatus? status = null;
        string? failure = null;
        var budgetSec = timeoutSec ?? Options.AgentCallTimeoutSec;
        try
        {
            var client = await agents.ForAsync(db, agent, cancellationToken) ?? throw new WorkspaceOperationException($"agent '{agent.Name}' has no endpoint");
            // Not the request's token: a client that hangs up must not leave the agent half-way.
            using var budget = RuntimeAgents.Budget(budgetSec, CancellationToken.None);
            status = await call(client, budget.Token);
        }
        catch (Exception e) when (IsAgentFailure(e))
        {
            failure = $"agent '{agent.Name}': {operation} failed: {Describe(e, budgetSec)}";
            LogOperationFailed(logger, workspace.Name, workspace.Id, operation, failure);
        }

        await using var transaction = await db.BeginLockedTransactionAsync(HarnessLock.Workspaces, cancellationToken);
        await db.Entry(workspace).ReloadAsync(cancellationToken);
        if (db.Entry(workspace).State == EntityState.Detached)
        {
            return new WorkspaceOutcome(workspace, null, Removed: true);
        }
        if (workspace.Status != transitional)
        {
            // Something else (a forced delete, the health checker, the reconciler) settled it meanwhile.
            await transaction.CommitAsync(cancellationToken);
            return new WorkspaceOutcome(workspace, null);
        }
        var now = time.GetUtcNow();
        if (failure is not null)
        {
            Fail(workspace, failure, now);
            onFailure?.Invoke(workspace);
        }
        else if (onSuccess is not null)
        {
            onSuccess(workspace);
            workspace.StateDeadlineAt = null;
            workspace.LastErrorMessage = null;
            workspace.UpdatedAt = now;
        }
        else
        {
            Settle(workspace, status!, now, Options.StateDeadlineSec);
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new WorkspaceOutcome(workspace, null);
    }

    private static Task<InstanceStatus> StartInstanceAsync(RuntimeAgentClient client, WorkspaceEntity workspace, CancellationToken token) =>
        client.StartInstanceAsync(workspace.RuntimeId(), new InstanceStartRequest(
            workspace.Image,
            workspace.Port,
            WorkspaceFields.DeserializeEnv(workspace.Env),
            Resources: workspace.Cpu is null && workspace.MemoryMb is null ? null : new ResourceLimits(workspace.Cpu, workspace.MemoryMb)), token);

    /// <summary>Applies what the agent says of the instance: running, still starting, stopped, or error.</summary>
    internal static void Settle(WorkspaceEntity workspace, InstanceStatus status, DateTimeOffset now, int deadlineSec, string? notRunningMessage = null)
    {
        workspace.UpdatedAt = now;
        workspace.ErrorFromHealthCheck = false;
        switch (status.State)
        {
            case InstanceState.Running:
                workspace.Status = WorkspaceStatus.Running;
                workspace.Upstream = status.Upstream;
                workspace.StateDeadlineAt = null;
                workspace.LastErrorMessage = null;
                // Starting counts as activity, so idle auto-stop never stops a workspace that just started.
                workspace.LastActivityAt = now;
                break;
            case InstanceState.Starting:
                workspace.Status = WorkspaceStatus.Starting;
                workspace.Upstream = null;
                workspace.StateDeadlineAt ??= now.AddSeconds(deadlineSec);
                break;
            case InstanceState.Error:
                Fail(workspace, $"the instance failed: {status.Message ?? "the runtime reports an error"}", now);
                break;
            default:
                workspace.Status = WorkspaceStatus.Stopped;
                workspace.Upstream = null;
                workspace.StateDeadlineAt = null;
                workspace.LastErrorMessage = notRunningMessage is null ? null : Truncate(notRunningMessage);
                break;
        }
    }

    internal static void Fail(WorkspaceEntity workspace, string message, DateTimeOffset now)
    {
        workspace.Status = WorkspaceStatus.Error;
        workspace.Upstream = null;
        workspace.StateDeadlineAt = null;
        workspace.LastErrorMessage = Truncate(message);
        workspace.UpdatedAt = now;
    }

    /// <summary>Removes the row, its archives' rows and their files. The caller holds the workspaces lock.</summary>
    private async Task RemoveAsync(WorkspaceEntity workspace, CancellationToken cancellationToken)
    {
        var archives = await db.WorkspaceArchives.Where(a => a.WorkspaceId == workspace.Id).ToListAsync(cancellationToken);
        db.WorkspaceArchives.RemoveRange(archives);
        db.Workspaces.Remove(workspace);
        await db.SaveChangesAsync(cancellationToken);
        foreach (var archive in archives)
        {
            await store.DeleteAsync(archive.StoragePath, cancellationToken);
        }
    }

    private JobEntity NewJob(string type, WorkspaceEntity workspace, AgentEntity agent, Guid archiveId, string actor, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        Type = type,
        Status = JobStatusNames.Running,
        AgentId = agent.Id,
        WorkspaceId = workspace.Id.ToString("D"),
        Spec = JsonSerializer.Serialize(new Dictionary<string, string> { ["workspace"] = workspace.Name, ["archive_id"] = archiveId.ToString("D") }),
        CreatedBy = actor,
        CreatedAt = now,
        StartedAt = now,
        DeadlineAt = now.AddSeconds(Options.ArchiveTimeoutSec),
    };

    private async Task FinishJobAsync(JobEntity job, WorkspaceOutcome outcome, object result, CancellationToken cancellationToken)
    {
        var ok = outcome.Workspace is { } ws && ws.LastErrorMessage is null
            && ws.Status is not WorkspaceStatus.Error && !(job.Type == JobTypeNames.Restore && ws.Status == WorkspaceStatus.Archived);
        await db.Entry(job).ReloadAsync(cancellationToken);
        if (job.Status != JobStatusNames.Running)
        {
            return;
        }
        job.Status = ok ? JobStatusNames.Succeeded : JobStatusNames.Failed;
        job.FinishedAt = time.GetUtcNow();
        job.LastErrorMessage = ok ? null : outcome.Workspace?.LastErrorMessage ?? "the workspace was removed during the job";
        job.Result = JsonSerializer.Serialize(result, JobJson.Options);
        await db.SaveChangesAsync(cancellationToken);
    }

    internal static bool IsAgentFailure(Exception e) =>
        e is HarnessApiException or HttpRequestException or OperationCanceledException or TimeoutException or WorkspaceOperationException
            or System.Text.Json.JsonException or IOException;

    internal static string Describe(Exception e, int? timeoutSec = null) => e switch
    {
        OperationCanceledException or TimeoutException => timeoutSec is { } s ? $"no answer within {s} s" : "timed out",
        HarnessApiException api => api.Message,
        HttpRequestException http => http.InnerException?.Message ?? http.Message,
        _ => e.Message,
    };

    internal static string Truncate(string message) => message.Length <= Limits.MessageLength ? message : message[..(Limits.MessageLength - 1)] + "…";

    private static class JobJson
    {
        public static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {Name} ({WorkspaceId}) placed on agent {Agent}")]
    private static partial void LogPlaced(ILogger logger, string name, Guid workspaceId, string agent);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {Name} ({WorkspaceId}): {Operation} failed: {Reason}")]
    private static partial void LogOperationFailed(ILogger logger, string name, Guid workspaceId, string operation, string reason);
}

/// <summary>A workspace operation that cannot go on, with the reason a user reads.</summary>
public sealed class WorkspaceOperationException(string message) : Exception(message);

public static class WorkspaceArchives
{
    public static string StoragePath(Guid workspaceId, Guid archiveId) => $"workspaces/{workspaceId:D}/{archiveId:D}.tar.gz";
}
