using Harness.Contracts;
using Harness.Contracts.Jobs;
using Harness.Server.Data;
using Harness.Server.Http;
using Harness.Server.Security;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Jobs;

public static class JobsApi
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

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
        var take = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, out take) || take < 1 || take > MaxLimit))
        {
            errors.Add("limit", $"must be an integer from 1 to {MaxLimit}");
        }
        PageCursor? after = null;
        if (cursor is not null && !PageCursor.TryDecode(cursor, out after))
        {
            errors.Add("cursor", "is not a cursor returned by this listing");
        }
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
        if (after is not null)
        {
            var at = after.CreatedAt;
            var id = after.Id;
            query = query.Where(j => j.CreatedAt < at || (j.CreatedAt == at && j.Id.CompareTo(id) < 0));
        }
        var rows = await query
            .OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id)
            .Take(take + 1)
            .Select(j => new JobView(j.Id, j.Type, j.Status, j.AgentId, j.WorkspaceId, j.ExitCode, j.LastErrorMessage, j.CreatedAt, j.StartedAt, j.FinishedAt))
            .ToListAsync(cancellationToken);
        string? next = null;
        if (rows.Count > take)
        {
            rows.RemoveAt(rows.Count - 1);
            next = new PageCursor(rows[^1].CreatedAt, rows[^1].Id).Encode();
        }
        return TypedResults.Ok(new Page<JobView>(rows, next));
    }
}
