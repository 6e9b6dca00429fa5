using System.Security.Claims;
using Harness.Contracts;
using Harness.Contracts.Runs;
using Harness.Server.Data;
using Harness.Server.Features.Audit;
using Harness.Server.Features.Dispatch;
using Harness.Server.Http;
using Harness.Server.Security;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Runs;

/// <summary>Runs: a workflow version or a playbook on a target, one device state per targeted device.</summary>
public static class RunsApi
{
    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        var runs = app.MapGroup(Routes.Runs).WithTags("Runs").RequireAuthorization(HarnessAuth.OperatorPolicy);
        runs.MapPost("", Create).WithSummary("Run a workflow version or a playbook on a target; offline devices are skipped at once.");
        runs.MapGet("", List).WithSummary("Runs, newest first, keyset-paged; filter by status, workflow_id or playbook_id.");
        runs.MapGet("/{runId:guid}", Get).WithSummary("A run's status, counts per state, and every device with its steps and artifacts.");
        runs.MapPost("/{runId:guid}/cancel", Cancel).WithSummary("Cancel every device that has not ended; agents stop the ones in progress.");
        return app;
    }

    private static async Task<Results<Created<RunCreatedResponse>, ValidationProblem>> Create(
        CreateRunRequest request, RunFactory factory, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var (created, errors) = await factory.CreateAsync(request, user.Actor(), cancellationToken);
        return created is null ? errors!.ToProblem() : TypedResults.Created($"{Routes.Runs}/{created.RunId}", created);
    }

    private static async Task<Results<Ok<Page<RunSummary>>, ValidationProblem>> List(
        HarnessDbContext db, string? limit, string? cursor, string? status, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "workflow_id")] Guid? workflowId, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "playbook_id")] Guid? playbookId, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var page = PageRequest.Parse(limit, cursor, errors);
        if (status is not null && status is not (RunStatus.Queued or RunStatus.Running or RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled))
        {
            errors.Add("status", "must be queued, running, succeeded, failed or cancelled");
        }
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        var query = db.Runs.AsNoTracking();
        if (status is not null)
        {
            query = query.Where(r => r.Status == status);
        }
        if (workflowId is not null)
        {
            query = query.Where(r => r.WorkflowId == workflowId);
        }
        if (playbookId is not null)
        {
            query = query.Where(r => r.PlaybookId == playbookId);
        }
        if (page.After is { } after)
        {
            var at = after.CreatedAt;
            var id = after.Id;
            query = query.Where(r => r.CreatedAt < at || (r.CreatedAt == at && r.Id.CompareTo(id) < 0));
        }
        var rows = await query.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Take(page.Take + 1).ToListAsync(cancellationToken);
        var next = page.Trim(rows, r => (r.CreatedAt, r.Id));
        var summaries = await RunViews.SummariesAsync(db, rows, cancellationToken);
        return TypedResults.Ok(new Page<RunSummary>(summaries, next));
    }

    private static async Task<Results<Ok<RunDetail>, ProblemHttpResult>> Get(Guid runId, HarnessDbContext db, CancellationToken cancellationToken)
    {
        var detail = await RunViews.DetailAsync(db, runId, cancellationToken);
        return detail is null ? NotFound(runId) : TypedResults.Ok(detail);
    }

    private static async Task<Results<Ok<RunSummary>, ProblemHttpResult>> Cancel(
        Guid runId, HarnessDbContext db, TimeProvider time, DispatchSignal signal, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await using (var transaction = await db.BeginLockedTransactionAsync(HarnessLock.Dispatch, cancellationToken))
        {
            var run = await db.Runs.SingleOrDefaultAsync(r => r.Id == runId, cancellationToken);
            if (run is null)
            {
                return NotFound(runId);
            }
            if (RunStatus.IsTerminal(run.Status))
            {
                return Problems.Conflict("run_id", $"run {runId} has already ended ({run.Status})");
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
            run.LastErrorMessage = $"cancelled by {user.Actor()}";
            AuditLog.Record(db, now, user.Actor(), "run.cancelled", runId.ToString());
            await db.SaveChangesAsync(cancellationToken);
            RunProgress.Apply(run, (await RunProgress.CountAsync(db, [runId], cancellationToken))[runId]);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        signal.Notify();
        var summaries = await RunViews.SummariesAsync(db, [await db.Runs.AsNoTracking().SingleAsync(r => r.Id == runId, cancellationToken)], cancellationToken);
        return TypedResults.Ok(summaries[0]);
    }

    private static ProblemHttpResult NotFound(Guid runId) => Problems.NotFound($"run_id: no run '{runId}'");
}
