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
        CreateRunRequest request, RunFactory factory, Metrics.HarnessMetrics metrics, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var (created, errors) = await factory.CreateAsync(request, user.Actor(), cancellationToken);
        if (created is not null)
        {
            metrics.RunCreated();
        }
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
        return TypedResults.Ok(await RunViews.PageAsync(db, page, status, workflowId, playbookId, cancellationToken));
    }

    private static async Task<Results<Ok<RunDetail>, ProblemHttpResult>> Get(Guid runId, HarnessDbContext db, CancellationToken cancellationToken)
    {
        var detail = await RunViews.DetailAsync(db, runId, cancellationToken);
        return detail is null ? NotFound(runId) : TypedResults.Ok(detail);
    }

    private static async Task<Results<Ok<RunSummary>, ProblemHttpResult>> Cancel(
        Guid runId, HarnessDbContext db, TimeProvider time, DispatchSignal signal, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var (summary, conflict) = await RunCancellation.CancelAsync(db, time, signal, runId, user.Actor(), cancellationToken);
        return summary is not null ? TypedResults.Ok(summary)
            : conflict is not null ? Problems.Conflict("run_id", conflict)
            : NotFound(runId);
    }

    private static ProblemHttpResult NotFound(Guid runId) => Problems.NotFound($"run_id: no run '{runId}'");
}
