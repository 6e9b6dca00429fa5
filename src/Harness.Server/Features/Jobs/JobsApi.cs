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
        return app;
    }

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
        return TypedResults.Ok(new Page<JobView>(rows, next));
    }
}
