using System.Security.Claims;
using Harness.Contracts;
using Harness.Contracts.Jobs;
using Harness.Server.Data;
using Harness.Server.Http;
using Harness.Server.Security;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Jobs;

public static class JobsApi
{
    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        // Seed 000 lists jobs at /jobs; /api/jobs is the same listing under the API prefix.
        foreach (var route in new[] { Routes.Jobs, Routes.ApiJobs })
        {
            app.MapGet(route, List)
                .RequireAuthorization(HarnessAuth.OperatorPolicy)
                .WithTags("Jobs")
                .WithSummary("Jobs, newest first, keyset-paged: pass next_cursor back as cursor.");
        }
        var jobs = app.MapGroup(Routes.ApiJobs).WithTags("Jobs").RequireAuthorization(HarnessAuth.OperatorPolicy);
        jobs.MapPost("", (CreateJobRequest request, ClaimsPrincipal user, SandboxJobService service, CancellationToken ct) =>
                service.CreateAsync(request, user.Actor(), ct))
            .WithSummary("Queue a sandbox job (type \"sandbox\") for an agent with the sandbox runtime; secrets never come back.");
        jobs.MapGet("/{id:guid}", Get).WithSummary("A job: status, reason, exit code, timings, spec (secret names only), artifacts.");
        jobs.MapGet("/{id:guid}/logs", JobLogStream.StreamAsync)
            .WithSummary("The job's output: text/plain, or NDJSON with format=ndjson; follow=true streams until the job ends; after=seq resumes.");
        jobs.MapPost("/{id:guid}/cancel", (Guid id, ClaimsPrincipal user, SandboxJobService service, CancellationToken ct) =>
                service.CancelAsync(id, user.Actor(), ct))
            .WithSummary("Cancel: a queued job at once, a running one is killed by its agent within seconds.");
        return app;
    }

    private static async Task<IResult> Get(Guid id, SandboxJobService service, CancellationToken cancellationToken) =>
        await service.FindAsync(id, cancellationToken) is { } job ? TypedResults.Ok(job) : Problems.NotFound($"id: no job '{id}'");

    private static async Task<Results<Ok<Page<JobView>>, ValidationProblem>> List(
        HarnessDbContext db, string? limit, string? cursor, string? status, string? type, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var page = PageRequest.Parse(limit, cursor, errors);
        errors.MaxLength("status", status, 16);
        errors.MaxLength("type", type, 32);
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        return TypedResults.Ok(await PageAsync(db, page, status, type, cancellationToken));
    }

    /// <summary>One page of jobs, newest first, as the API and the console list them.</summary>
    public static async Task<Page<JobView>> PageAsync(HarnessDbContext db, PageRequest page, string? status, string? type, CancellationToken cancellationToken)
    {
        var query = db.Jobs.AsNoTracking();
        if (status is not null)
        {
            query = query.Where(j => j.Status == status);
        }
        if (type is not null)
        {
            query = query.Where(j => j.Type == type);
        }
        if (page.After is { } after)
        {
            var at = after.CreatedAt;
            var id = after.Id;
            query = query.Where(j => j.CreatedAt < at || (j.CreatedAt == at && j.Id.CompareTo(id) < 0));
        }
        var rows = await query
            .OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id)
            .Take(page.Take + 1)
            .Select(j => new JobView(j.Id, j.Type, j.Status, j.AgentId, j.WorkspaceId, j.ExitCode, j.LastErrorMessage, j.CreatedAt, j.StartedAt, j.FinishedAt))
            .ToListAsync(cancellationToken);
        var next = page.Trim(rows, j => (j.CreatedAt, j.Id));
        return new Page<JobView>(rows, next);
    }
}
