using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Agents;
using Harness.Contracts.Jobs;
using Harness.Contracts.Workspaces;
using Harness.Runtimes.Sandbox;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Agents;
using Harness.Server.Features.Audit;
using Harness.Server.Features.Dispatch;
using Harness.Server.Features.Workspaces;
using Harness.Server.Http;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Jobs;

/// <summary>
/// Sandbox jobs from request to record: queue (secrets sealed), claim by a sandbox-capable agent (leased),
/// output and start events, completion (first report wins), cancel, and the sweep of lost agents and overruns.
/// The API and the console both go through here.
/// </summary>
public sealed partial class SandboxJobService(
    HarnessDbContext db, JobSecrets secrets, DispatchSignal signal, TimeProvider time, ILogger<SandboxJobService> logger)
{
    /// <summary>How long a claim holds a job without news from its agent.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    /// <summary>Beyond its timeout a running job gets this long for the agent to kill it and report, before the server marks it timed out.</summary>
    public static readonly TimeSpan DeadlineGrace = TimeSpan.FromSeconds(60);

    public const int MaxLogLinesPerEvent = 5000;

    public async Task<IResult> CreateAsync(CreateJobRequest request, string actor, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var spec = SandboxJobValidation.Validate(request, errors);
        errors.MaxLength("workspace_id", request.WorkspaceId, Limits.NameLength);
        if (spec is null || errors.HasErrors)
        {
            return errors.ToProblem();
        }

        Guid? agentId = null;
        WorkspaceEntity? workspace = null;
        if (request.WorkspaceId is { Length: > 0 } workspaceRef)
        {
            workspace = Guid.TryParse(workspaceRef, out var wid)
                ? await db.Workspaces.AsNoTracking().SingleOrDefaultAsync(w => w.Id == wid, cancellationToken)
                : await db.Workspaces.AsNoTracking().SingleOrDefaultAsync(w => w.Name == workspaceRef, cancellationToken);
            if (workspace is null)
            {
                return Problems.Field(StatusCodes.Status404NotFound, "Not found", "workspace_id", $"no workspace '{workspaceRef}' (GET /api/workspaces lists them)");
            }
            if (workspace.AgentId is null || workspace.Status is WorkspaceStatus.Archived or WorkspaceStatus.Deleting or WorkspaceStatus.Archiving or WorkspaceStatus.Restoring)
            {
                return Problems.Conflict("workspace_id", $"workspace '{workspace.Name}' is {workspace.Status}; its volume is not on an agent a job can use");
            }
            if (request.AgentId is { } requested && requested != workspace.AgentId)
            {
                return Problems.Conflict("agent_id", $"workspace '{workspace.Name}' lives on another agent; a job on it runs there");
            }
            agentId = workspace.AgentId;
        }
        else if (request.AgentId is { } requested)
        {
            agentId = requested;
        }

        var candidates = await db.Agents.AsNoTracking()
            .Where(a => agentId == null || a.Id == agentId)
            .Select(a => new { a.Id, a.Name, a.Status, a.Runtimes })
            .ToListAsync(cancellationToken);
        if (agentId is not null && candidates.Count == 0)
        {
            return Problems.Field(StatusCodes.Status404NotFound, "Not found", "agent_id", $"no agent '{agentId}' (GET /api/agents lists them)");
        }
        var capable = candidates.Where(a => AgentFields.SplitRuntimes(a.Runtimes).Contains(RuntimeNames.Sandbox)).ToList();
        if (capable.Count == 0)
        {
            var field = workspace is not null ? "workspace_id" : agentId is not null ? "agent_id" : "type";
            var where = workspace is not null ? $"the agent of workspace '{workspace.Name}' does" : agentId is not null ? $"agent '{candidates[0].Name}' does" : "no agent does";
            return Problems.Conflict(field, $"{where} not offer the sandbox runtime (start an agent with --sandbox docker|bubblewrap|auto)");
        }
        if (!capable.Any(a => a.Status == AgentStatuses.Active))
        {
            return Problems.Conflict(agentId is null ? "type" : "agent_id", "every agent with the sandbox runtime is offline or in error; the job would wait indefinitely");
        }

        var now = time.GetUtcNow();
        var job = new JobEntity
        {
            Id = Guid.CreateVersion7(now),
            Type = JobTypeNames.Sandbox,
            Status = JobStatusNames.Queued,
            AgentId = agentId,
            WorkspaceId = workspace?.Id.ToString("D"),
            Spec = JsonSerializer.Serialize(spec, HarnessJsonContext.Default.SandboxJobSpec),
            CreatedBy = actor,
            CreatedAt = now,
        };
        job.SecretsSealed = await secrets.SealAsync(db, job.Id, request.Secrets, cancellationToken);
        db.Jobs.Add(job);
        AuditLog.Record(db, now, actor, "job.create", job.Id.ToString("D"), new { type = job.Type, image = spec.Image, workspace = workspace?.Name, secrets = spec.SecretNames });
        await db.SaveChangesAsync(cancellationToken);
        signal.Notify();
        LogQueued(logger, job.Id, spec.Image, actor);
        return TypedResults.Accepted($"{Routes.ApiJobs}/{job.Id}", await DetailAsync(job, cancellationToken));
    }

    public async Task<JobDetail?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == id, cancellationToken);
        return job is null ? null : await DetailAsync(job, cancellationToken);
    }

    public async Task<JobDetail> DetailAsync(JobEntity job, CancellationToken cancellationToken)
    {
        var artifacts = await db.Artifacts.AsNoTracking()
            .Where(a => a.JobId == job.Id)
            .OrderBy(a => a.StoragePath)
            .Select(a => new { a.Id, a.StoragePath, a.Size, a.Sha256 })
            .ToListAsync(cancellationToken);
        var prefix = JobArtifactPrefix(job.Id);
        return new JobDetail(
            job.Id, job.Type, job.Status, job.Reason, job.AgentId, job.Backend, job.WorkspaceId,
            job.Type == JobTypeNames.Sandbox ? ReadSpec(job) : null,
            job.ExitCode, job.LastErrorMessage, job.CancelRequestedAt is not null,
            job.CreatedAt, job.StartedAt, job.FinishedAt, job.DeadlineAt, job.CreatedBy,
            [.. artifacts.Select(a => new JobArtifactView(
                a.Id, a.StoragePath.StartsWith(prefix, StringComparison.Ordinal) ? a.StoragePath[prefix.Length..] : a.StoragePath,
                a.Size, a.Sha256, $"{Routes.Artifacts}/{a.Id}"))]);
    }

    public static string JobArtifactPrefix(Guid jobId) => $"jobs/{jobId:N}/";

    public static SandboxJobSpec? ReadSpec(JobEntity job)
    {
        try
        {
            return JsonSerializer.Deserialize(job.Spec, HarnessJsonContext.Default.SandboxJobSpec);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Cancels a queued job at once; asks the agent of a claimed or running one to kill it.</summary>
    public async Task<IResult> CancelAsync(Guid id, string actor, CancellationToken cancellationToken)
    {
        var job = await db.Jobs.SingleOrDefaultAsync(j => j.Id == id, cancellationToken);
        if (job is null)
        {
            return Problems.NotFound($"id: no job '{id}'");
        }
        if (job.Type != JobTypeNames.Sandbox)
        {
            return Problems.Conflict("type", $"{job.Type} jobs end with their workspace operation; only sandbox jobs can be canceled");
        }
        if (JobStatusNames.IsTerminal(job.Status))
        {
            return Problems.Conflict("status", $"job {id} has already ended ({job.Status})");
        }
        var now = time.GetUtcNow();
        if (job.Status == JobStatusNames.Queued)
        {
            Finish(job, JobStatusNames.Canceled, SandboxReasons.Canceled, null, "canceled before an agent claimed it", now);
        }
        else
        {
            job.CancelRequestedAt ??= now;
        }
        AuditLog.Record(db, now, actor, "job.cancel", id.ToString("D"));
        await db.SaveChangesAsync(cancellationToken);
        signal.Notify();
        return TypedResults.Accepted($"{Routes.ApiJobs}/{id}", await DetailAsync(job, cancellationToken));
    }

    /// <summary>
    /// Renews the leases of the agent's running jobs, lists those to cancel, and claims up to <c>max</c> queued
    /// jobs, waiting up to <c>wait_ms</c> for one to appear.
    /// </summary>
    public async Task<IResult> ClaimAsync(Guid agentId, ClaimJobsRequest request, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        errors.Range("max", request.Max, 0, 256);
        errors.Range("wait_ms", request.WaitMs, 0, 60_000);
        if (request.Running is { Count: > 1024 })
        {
            errors.Add("running", "at most 1024 job ids");
        }
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        var runtimes = await db.Agents.AsNoTracking().Where(a => a.Id == agentId).Select(a => a.Runtimes).SingleAsync(cancellationToken);
        var max = request.Max ?? 1;
        if (max > 0 && !AgentFields.SplitRuntimes(runtimes).Contains(RuntimeNames.Sandbox))
        {
            return Problems.Conflict("max", "this agent does not report the sandbox runtime in its heartbeat; it cannot claim sandbox jobs");
        }

        var waitUntil = time.GetUtcNow() + TimeSpan.FromMilliseconds(request.WaitMs ?? 0);
        var running = request.Running ?? [];
        if (running.Count > 0)
        {
            // Once per request, to a lease past the end of the wait: the loop below only looks for news.
            var leaseUntil = waitUntil + Lease;
            await db.Jobs
                .Where(j => running.Contains(j.Id) && j.AgentId == agentId && (j.Status == JobStatusNames.Dispatched || j.Status == JobStatusNames.Running))
                .ExecuteUpdateAsync(u => u.SetProperty(j => j.LeaseUntil, leaseUntil), cancellationToken);
        }
        while (true)
        {
            var changed = signal.Changed;
            var now = time.GetUtcNow();
            // Jobs the agent reports running but the server has ended (canceled, swept) are to be stopped too.
            var cancel = await db.Jobs.AsNoTracking()
                .Where(j => j.AgentId == agentId && j.Type == JobTypeNames.Sandbox
                    && ((j.CancelRequestedAt != null && (j.Status == JobStatusNames.Dispatched || j.Status == JobStatusNames.Running))
                        || (running.Contains(j.Id) && JobStatusNames.Terminal.Contains(j.Status))))
                .Select(j => j.Id)
                .ToListAsync(cancellationToken);
            var claimed = max > 0 ? await ClaimQueuedAsync(agentId, max, now, cancellationToken) : [];
            if (claimed.Count > 0 || cancel.Count > 0 || now >= waitUntil)
            {
                return TypedResults.Ok(new ClaimJobsResponse(claimed, cancel, (int)Lease.TotalSeconds));
            }
            var remaining = waitUntil - now;
            var recheck = remaining < DispatchSignal.RecheckInterval ? remaining : DispatchSignal.RecheckInterval;
            try
            {
                await changed.WaitAsync(recheck, time, cancellationToken);
            }
            catch (TimeoutException)
            {
                // Re-check anyway: news from another replica may have been missed.
            }
        }
    }

    private async Task<List<ClaimedJob>> ClaimQueuedAsync(Guid agentId, int max, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var candidates = await db.Jobs.AsNoTracking()
            .Where(j => j.Type == JobTypeNames.Sandbox && j.Status == JobStatusNames.Queued && (j.AgentId == null || j.AgentId == agentId))
            .OrderBy(j => j.CreatedAt).ThenBy(j => j.Id)
            .Select(j => j.Id)
            .Take(max)
            .ToListAsync(cancellationToken);
        var claimed = new List<ClaimedJob>();
        var leaseUntil = now + Lease;
        foreach (var id in candidates)
        {
            // A conditional update: of several agents (or replicas) racing for the job, exactly one wins.
            var won = await db.Jobs
                .Where(j => j.Id == id && j.Status == JobStatusNames.Queued)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(j => j.Status, JobStatusNames.Dispatched)
                    .SetProperty(j => j.AgentId, agentId)
                    .SetProperty(j => j.LeaseUntil, leaseUntil), cancellationToken);
            if (won == 0)
            {
                continue;
            }
            var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == id, cancellationToken);
            var spec = ReadSpec(job);
            if (spec is null)
            {
                continue;
            }
            string? volume = null;
            if (job.WorkspaceId is { } workspaceId && Guid.TryParse(workspaceId, out var wid))
            {
                volume = await db.Workspaces.AsNoTracking().Where(w => w.Id == wid).Select(w => w.Volume).SingleOrDefaultAsync(cancellationToken);
            }
            var opened = await secrets.OpenAsync(db, job.Id, job.SecretsSealed, cancellationToken);
            claimed.Add(new ClaimedJob(job.Id, spec, opened, job.WorkspaceId, volume));
            LogClaimed(logger, job.Id, agentId);
        }
        return claimed;
    }

    /// <summary>The job started (first report) and/or more output; masks secrets again on the way in.</summary>
    public async Task<IResult> EventsAsync(Guid agentId, Guid jobId, JobEventsRequest request, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        errors.MaxLength("backend", request.Backend, 32);
        var logs = request.Logs ?? [];
        if (logs.Count > MaxLogLinesPerEvent)
        {
            errors.Add("logs", $"at most {MaxLogLinesPerEvent} lines per request");
        }
        for (var i = 0; i < Math.Min(logs.Count, MaxLogLinesPerEvent); i++)
        {
            var line = logs[i];
            if (line is null)
            {
                errors.Add($"logs[{i}]", "required");
                continue;
            }
            if (line.Seq < 0)
            {
                errors.Add($"logs[{i}].seq", "must not be negative");
            }
            if (line.Stream is not (JobLogStreams.Stdout or JobLogStreams.Stderr or JobLogStreams.System))
            {
                errors.Add($"logs[{i}].stream", "must be stdout, stderr or system");
            }
            if (line.Text is null)
            {
                errors.Add($"logs[{i}].text", "required");
            }
        }
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        var (job, refused) = await HeldAsync(db.Jobs, agentId, jobId, cancellationToken);
        if (job is null)
        {
            return refused!;
        }
        var now = time.GetUtcNow();
        if (!JobStatusNames.IsTerminal(job.Status))
        {
            job.LeaseUntil = now + Lease;
            if (request.Started == true && job.Status == JobStatusNames.Dispatched)
            {
                job.Status = JobStatusNames.Running;
                job.StartedAt = now;
                job.Backend = request.Backend;
                if (ReadSpec(job) is { } spec)
                {
                    job.DeadlineAt = now + TimeSpan.FromSeconds(spec.TimeoutS) + DeadlineGrace;
                }
            }
        }
        if (logs.Count > 0)
        {
            var redactor = new SecretRedactor((await secrets.OpenAsync(db, job.Id, job.SecretsSealed, cancellationToken)).Values);
            var min = logs.Min(l => l.Seq);
            var max = logs.Max(l => l.Seq);
            var known = await db.JobLogs.AsNoTracking()
                .Where(l => l.JobId == jobId && l.Seq >= min && l.Seq <= max)
                .Select(l => l.Seq)
                .ToListAsync(cancellationToken);
            var seen = known.ToHashSet();
            foreach (var line in logs)
            {
                if (!seen.Add(line.Seq))
                {
                    continue;
                }
                var text = redactor.Redact(line.Text);
                db.JobLogs.Add(new JobLogEntity
                {
                    JobId = jobId,
                    Seq = line.Seq,
                    Stream = line.Stream,
                    Text = text.Length > Limits.LogLineLength ? text[..Limits.LogLineLength] : text,
                    At = line.At == default ? now : line.At,
                });
            }
            job.LogLines = Math.Max(job.LogLines, max + 1);
        }
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException) when (logs.Count > 0)
        {
            // The same batch raced a retry of itself; the lines are in, which is all the agent needs to know.
            db.ChangeTracker.Clear();
        }
        var cancel = job.CancelRequestedAt is not null || JobStatusNames.IsTerminal(job.Status);
        return TypedResults.Ok(new JobEventsResponse(cancel));
    }

    /// <summary>The job, when <paramref name="agentId"/> holds it; else the 404 or 403 to answer.</summary>
    public static async Task<(JobEntity? Job, ProblemHttpResult? Refused)> HeldAsync(
        IQueryable<JobEntity> jobs, Guid agentId, Guid jobId, CancellationToken cancellationToken)
    {
        var job = await jobs.SingleOrDefaultAsync(j => j.Id == jobId, cancellationToken);
        if (job is null)
        {
            return (null, Problems.NotFound($"id: no job '{jobId}'"));
        }
        return job.AgentId == agentId ? (job, null) : (null, Problems.Forbidden("id", $"job {jobId} is not held by this agent"));
    }

    /// <summary>The job ended; the first report wins and repeats get the same answer.</summary>
    public async Task<IResult> CompleteAsync(Guid agentId, Guid jobId, CompleteJobRequest request, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        if (request.Status is null || !JobStatusNames.IsTerminal(request.Status))
        {
            errors.Add("status", $"must be one of {string.Join(", ", JobStatusNames.Terminal)}");
        }
        errors.Required("reason", request.Reason, 32);
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        var (job, refused) = await HeldAsync(db.Jobs, agentId, jobId, cancellationToken);
        if (job is null)
        {
            return refused!;
        }
        if (!JobStatusNames.IsTerminal(job.Status))
        {
            var redactor = new SecretRedactor((await secrets.OpenAsync(db, job.Id, job.SecretsSealed, cancellationToken)).Values);
            var message = request.Message is null ? null : redactor.Redact(request.Message);
            if (message is { Length: > Limits.MessageLength })
            {
                message = message[..Limits.MessageLength];
            }
            var now = time.GetUtcNow();
            job.StartedAt ??= request.StartedAt ?? now;
            Finish(job, request.Status!, request.Reason!, request.ExitCode, message, now);
            await db.SaveChangesAsync(cancellationToken);
            signal.Notify();
            LogFinished(logger, jobId, job.Status, job.Reason!, job.ExitCode);
        }
        return TypedResults.Ok(await DetailAsync(job, cancellationToken));
    }

    /// <summary>
    /// One sweep: a claim whose agent went silent before starting goes back to the queue; a started one is failed
    /// (agent_lost: the command may have had effects, so it is not run twice); a job past its deadline times out.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var expired = await db.Jobs
            .Where(j => j.Type == JobTypeNames.Sandbox
                && (j.Status == JobStatusNames.Dispatched || j.Status == JobStatusNames.Running)
                && ((j.LeaseUntil != null && j.LeaseUntil < now) || (j.DeadlineAt != null && j.DeadlineAt < now)))
            .ToListAsync(cancellationToken);
        foreach (var job in expired)
        {
            if (job.DeadlineAt is { } deadline && deadline < now)
            {
                Finish(job, JobStatusNames.TimedOut, SandboxReasons.Timeout, null, "the agent did not report the job's end by its deadline", now);
            }
            else if (job.Status == JobStatusNames.Dispatched && job.CancelRequestedAt is null)
            {
                job.Status = JobStatusNames.Queued;
                job.LeaseUntil = null;
                if (job.WorkspaceId is null)
                {
                    job.AgentId = null;
                }
            }
            else
            {
                Finish(job, job.CancelRequestedAt is null ? JobStatusNames.Failed : JobStatusNames.Canceled,
                    job.CancelRequestedAt is null ? "agent_lost" : SandboxReasons.Canceled, null,
                    "the agent stopped reporting for this job (its lease ran out)", now);
            }
            LogSwept(logger, job.Id, job.Status);
        }
        if (expired.Count > 0)
        {
            await db.SaveChangesAsync(cancellationToken);
            signal.Notify();
        }
        return expired.Count;
    }

    private static void Finish(JobEntity job, string status, string reason, int? exitCode, string? message, DateTimeOffset now)
    {
        job.Status = status;
        job.Reason = reason;
        job.ExitCode = exitCode;
        job.LastErrorMessage = message;
        job.FinishedAt = now;
        job.LeaseUntil = null;
        job.SecretsSealed = null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox job {JobId} queued: image {Image}, by {Actor}")]
    private static partial void LogQueued(ILogger logger, Guid jobId, string image, string actor);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox job {JobId} claimed by agent {AgentId}")]
    private static partial void LogClaimed(ILogger logger, Guid jobId, Guid? agentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox job {JobId} ended {Status} ({Reason}, exit code {ExitCode})")]
    private static partial void LogFinished(ILogger logger, Guid jobId, string status, string reason, int? exitCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox job {JobId}: lease or deadline ran out; now {Status}")]
    private static partial void LogSwept(ILogger logger, Guid jobId, string status);
}
