using System.Security.Claims;
using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Workflows;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Audit;
using Harness.Server.Http;
using Harness.Server.Security;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Workflows;

/// <summary>Versioned workflow recipes: posting a name again saves its next version; versions never change.</summary>
public static class WorkflowsApi
{
    public static IEndpointRouteBuilder MapWorkflowsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(Routes.WorkflowSchema, () => TypedResults.Text(WorkflowSchema.Json, "application/schema+json"))
            .AllowAnonymous().WithTags("Workflows").WithSummary("The JSON Schema of the workflow DSL.");
        var workflows = app.MapGroup(Routes.Workflows).WithTags("Workflows").RequireAuthorization(HarnessAuth.OperatorPolicy);
        workflows.MapPost("", Create).WithSummary("Save a workflow; the same name again saves its next version.");
        workflows.MapGet("", List).WithSummary("Every workflow with its latest version; ?name= for one.");
        workflows.MapGet("/{workflow}", GetLatest).WithSummary("The latest version of a workflow, by id or name.");
        workflows.MapGet("/{workflow}/versions", Versions).WithSummary("Every version of a workflow, newest first.");
        workflows.MapGet("/{workflow}/versions/{version:int}", GetVersion).WithSummary("One immutable version.");
        return app;
    }

    private static async Task<Results<Created<WorkflowCreatedResponse>, ValidationProblem, ProblemHttpResult>> Create(
        WorkflowDefinition request, HarnessDbContext db, TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        WorkflowValidator.Validate(request, errors);
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        var latest = await db.Workflows.AsNoTracking()
            .Where(w => w.Name == request.Name)
            .OrderByDescending(w => w.Version)
            .Select(w => new { w.Id, w.Version })
            .FirstOrDefaultAsync(cancellationToken);
        var next = (latest?.Version ?? 0) + 1;
        if (request.Version is { } asked && asked != next)
        {
            return Problems.Conflict("version", $"the next version of '{request.Name}' is {next}; versions are immutable (omit version to save the next one)");
        }
        var now = time.GetUtcNow();
        var entity = new WorkflowEntity
        {
            Id = latest?.Id ?? Guid.NewGuid(),
            Version = next,
            Name = request.Name!,
            Definition = JsonSerializer.Serialize(request with { Version = next }, HarnessJsonContext.Default.WorkflowDefinition),
            CreatedBy = user.Actor(),
            CreatedAt = now,
        };
        db.Workflows.Add(entity);
        AuditLog.Record(db, now, user.Actor(), "workflow.created", $"{entity.Name}@{next}", new { workflow_id = entity.Id, version = next });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            return Problems.Conflict("version", $"another version of '{request.Name}' was saved at the same time; post it again");
        }
        return TypedResults.Created($"{Routes.Workflows}/{entity.Id}/versions/{next}", new WorkflowCreatedResponse(entity.Id, entity.Name, next));
    }

    private static async Task<Ok<List<WorkflowView>>> List(HarnessDbContext db, string? name, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ListAsync(db, name, cancellationToken));

    /// <summary>Every workflow (or the one named) with its latest version, by name.</summary>
    public static async Task<List<WorkflowView>> ListAsync(HarnessDbContext db, string? name, CancellationToken cancellationToken)
    {
        var query = db.Workflows.AsNoTracking();
        if (!string.IsNullOrEmpty(name))
        {
            query = query.Where(w => w.Name == name);
        }
        var rows = await query.ToListAsync(cancellationToken);
        var views = rows.GroupBy(w => w.Id)
            .Select(g =>
            {
                var latest = g.MaxBy(w => w.Version)!;
                var definition = Parse(latest);
                return new WorkflowView(g.Key, latest.Name, latest.Version, definition.Description, definition.Steps?.Count ?? 0,
                    g.Min(w => w.CreatedAt), latest.CreatedAt);
            })
            .OrderBy(v => v.Name, StringComparer.Ordinal)
            .ToList();
        return views;
    }

    private static async Task<Results<Ok<WorkflowVersionView>, ProblemHttpResult>> GetLatest(string workflow, HarnessDbContext db, CancellationToken cancellationToken)
    {
        var row = await Find(db, workflow).OrderByDescending(w => w.Version).FirstOrDefaultAsync(cancellationToken);
        return row is null ? NotFound(workflow) : TypedResults.Ok(ToView(row));
    }

    private static async Task<Results<Ok<List<WorkflowVersionView>>, ProblemHttpResult>> Versions(string workflow, HarnessDbContext db, CancellationToken cancellationToken)
    {
        var rows = await Find(db, workflow).OrderByDescending(w => w.Version).ToListAsync(cancellationToken);
        return rows.Count == 0 ? NotFound(workflow) : TypedResults.Ok(rows.Select(ToView).ToList());
    }

    private static async Task<Results<Ok<WorkflowVersionView>, ProblemHttpResult>> GetVersion(string workflow, int version, HarnessDbContext db, CancellationToken cancellationToken)
    {
        var row = await Find(db, workflow).Where(w => w.Version == version).FirstOrDefaultAsync(cancellationToken);
        return row is null
            ? Problems.NotFound($"version: workflow '{workflow}' has no version {version}")
            : TypedResults.Ok(ToView(row));
    }

    private static IQueryable<WorkflowEntity> Find(HarnessDbContext db, string workflow) =>
        Guid.TryParse(workflow, out var id)
            ? db.Workflows.AsNoTracking().Where(w => w.Id == id)
            : db.Workflows.AsNoTracking().Where(w => w.Name == workflow);

    private static ProblemHttpResult NotFound(string workflow) => Problems.NotFound($"workflow: no workflow with id or name '{workflow}'");

    public static WorkflowDefinition Parse(WorkflowEntity row) =>
        JsonSerializer.Deserialize(row.Definition, HarnessJsonContext.Default.WorkflowDefinition)!;

    private static WorkflowVersionView ToView(WorkflowEntity row) =>
        new(row.Id, row.Name, row.Version, Parse(row), row.CreatedBy, row.CreatedAt);
}
