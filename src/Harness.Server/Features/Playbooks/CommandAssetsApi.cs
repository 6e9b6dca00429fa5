using System.Security.Claims;
using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Workflows;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Audit;
using Harness.Server.Features.Workflows;
using Harness.Server.Http;
using Harness.Server.Security;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Playbooks;

/// <summary>Reusable commands (a step or a few), the bricks playbooks are built from.</summary>
public static class CommandAssetsApi
{
    public static IEndpointRouteBuilder MapCommandAssetsApi(this IEndpointRouteBuilder app)
    {
        var assets = app.MapGroup(Routes.CommandAssets).WithTags("Command assets").RequireAuthorization(HarnessAuth.OperatorPolicy);
        assets.MapGet("", List).WithSummary("Every command asset, by name.");
        assets.MapPost("", Create).WithSummary("Save a command asset.");
        assets.MapGet("/{id:guid}", Get);
        assets.MapPut("/{id:guid}", Update).WithSummary("Replace a command asset; runs already created keep what they compiled.");
        assets.MapDelete("/{id:guid}", Delete).WithSummary("Delete a command asset no playbook uses.");
        return app;
    }

    private static async Task<Ok<List<CommandAssetView>>> List(HarnessDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ListAsync(db, cancellationToken));

    /// <summary>Every command asset by name.</summary>
    public static async Task<List<CommandAssetView>> ListAsync(HarnessDbContext db, CancellationToken cancellationToken)
    {
        var rows = await db.CommandAssets.AsNoTracking().OrderBy(a => a.Name).ToListAsync(cancellationToken);
        return rows.Select(ToView).ToList();
    }

    private static async Task<Results<Ok<CommandAssetView>, ProblemHttpResult>> Get(Guid id, HarnessDbContext db, CancellationToken cancellationToken)
    {
        var row = await db.CommandAssets.AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        return row is null ? NotFound(id) : TypedResults.Ok(ToView(row));
    }

    private static async Task<Results<Created<CommandAssetView>, ValidationProblem, ProblemHttpResult>> Create(
        CommandAssetRequest request, HarnessDbContext db, TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var (view, invalid, conflict) = await CreateAsync(request, db, time, user.Actor(), cancellationToken);
        return invalid is not null ? invalid.ToProblem()
            : conflict is not null ? Problems.Conflict("name", conflict)
            : TypedResults.Created($"{Routes.CommandAssets}/{view!.Id}", view);
    }

    /// <summary>Validates and saves a new command asset: the API's POST and the console's form both come here.</summary>
    public static async Task<(CommandAssetView? Asset, ValidationErrors? Invalid, string? Conflict)> CreateAsync(
        CommandAssetRequest request, HarnessDbContext db, TimeProvider time, string actor, CancellationToken cancellationToken)
    {
        if (Validate(request) is { } invalid)
        {
            return (null, invalid, null);
        }
        if (await db.CommandAssets.AnyAsync(a => a.Name == request.Name, cancellationToken))
        {
            return (null, null, $"a command asset named '{request.Name}' exists; PUT {Routes.CommandAssets}/{{id}} to change it");
        }
        var now = time.GetUtcNow();
        var row = new CommandAssetEntity { Id = Guid.NewGuid(), Name = request.Name!, Steps = "[]", CreatedAt = now };
        Apply(row, request, now);
        db.CommandAssets.Add(row);
        AuditLog.Record(db, now, actor, "command_asset.created", row.Name, new { id = row.Id });
        await db.SaveChangesAsync(cancellationToken);
        return (ToView(row), null, null);
    }

    private static async Task<Results<Ok<CommandAssetView>, ValidationProblem, ProblemHttpResult>> Update(
        Guid id, CommandAssetRequest request, HarnessDbContext db, TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (Validate(request) is { } invalid)
        {
            return invalid.ToProblem();
        }
        var row = await db.CommandAssets.SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (row is null)
        {
            return NotFound(id);
        }
        if (row.Name != request.Name && await db.CommandAssets.AnyAsync(a => a.Name == request.Name, cancellationToken))
        {
            return Problems.Conflict("name", $"another command asset is named '{request.Name}'");
        }
        var now = time.GetUtcNow();
        row.Name = request.Name!;
        Apply(row, request, now);
        AuditLog.Record(db, now, user.Actor(), "command_asset.updated", row.Name, new { id });
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(ToView(row));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(Guid id, HarnessDbContext db, TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var row = await db.CommandAssets.SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (row is null)
        {
            return NotFound(id);
        }
        var idText = id.ToString();
        var users = (await db.Playbooks.AsNoTracking().ToListAsync(cancellationToken))
            .Where(p => PlaybooksApi.ParseItems(p).Any(i => i.AssetId == id)).Select(p => p.Name).ToList();
        if (users.Count > 0)
        {
            return Problems.Conflict("id", $"command asset '{row.Name}' is used by playbook(s) {string.Join(", ", users)}; remove it from them first");
        }
        db.CommandAssets.Remove(row);
        AuditLog.Record(db, time.GetUtcNow(), user.Actor(), "command_asset.deleted", row.Name, new { id = idText });
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static ValidationErrors? Validate(CommandAssetRequest request)
    {
        var errors = new ValidationErrors();
        WorkflowValidator.ValidateName(errors, "name", request.Name);
        errors.MaxLength("description", request.Description, Limits.MessageLength);
        WorkflowValidator.ValidateSteps(request.Steps, errors, "steps");
        foreach (var (key, value) in request.Params ?? new Dictionary<string, JsonElement>())
        {
            if (value.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False))
            {
                errors.Add($"params.{key}", "a default must be a string, number or boolean");
            }
        }
        return errors.HasErrors ? errors : null;
    }

    private static void Apply(CommandAssetEntity row, CommandAssetRequest request, DateTimeOffset now)
    {
        row.Description = request.Description;
        row.Steps = JsonSerializer.Serialize(request.Steps!.ToList(), PlaybookJson.Default.ListWorkflowStep);
        row.Params = JsonSerializer.Serialize(
            new Dictionary<string, JsonElement>(request.Params ?? new Dictionary<string, JsonElement>()), PlaybookJson.Default.DictionaryStringJsonElement);
        row.UpdatedAt = now;
    }

    public static PlaybookCompiler.Asset ToAsset(CommandAssetEntity row)
    {
        var view = ToView(row);
        return new(row.Id, row.Name, view.Steps, view.Params.ToDictionary(p => p.Key, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText()));
    }

    private static CommandAssetView ToView(CommandAssetEntity row) => new(
        row.Id, row.Name, row.Description,
        JsonSerializer.Deserialize(row.Steps, PlaybookJson.Default.ListWorkflowStep)!,
        JsonSerializer.Deserialize(row.Params, PlaybookJson.Default.DictionaryStringJsonElement)!,
        row.CreatedAt, row.UpdatedAt);

    private static ProblemHttpResult NotFound(Guid id) => Problems.NotFound($"id: no command asset '{id}'");
}
