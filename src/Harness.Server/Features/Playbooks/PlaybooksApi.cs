using System.Security.Claims;
using System.Security.Cryptography;
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

/// <summary>Playbooks: command assets in order, each with a probability; a run compiles one per device.</summary>
public static class PlaybooksApi
{
    public const int MaxItems = 100;

    public static IEndpointRouteBuilder MapPlaybooksApi(this IEndpointRouteBuilder app)
    {
        var playbooks = app.MapGroup(Routes.Playbooks).WithTags("Playbooks").RequireAuthorization(HarnessAuth.OperatorPolicy);
        playbooks.MapGet("", List).WithSummary("Every playbook, by name.");
        playbooks.MapPost("", Create).WithSummary("Save a playbook: command assets in order, each with a probability in [0,1].");
        playbooks.MapGet("/{id:guid}", Get);
        playbooks.MapPut("/{id:guid}", Update).WithSummary("Replace a playbook's items; runs already created keep what they compiled.");
        playbooks.MapDelete("/{id:guid}", Delete).WithSummary("Delete a playbook no run used.");
        playbooks.MapPost("/{id:guid}/compile", Compile).WithSummary("Preview the steps a device would run for a seed.");
        return app;
    }

    private static async Task<Ok<List<PlaybookView>>> List(HarnessDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ListAsync(db, cancellationToken));

    /// <summary>Every playbook by name.</summary>
    public static async Task<List<PlaybookView>> ListAsync(HarnessDbContext db, CancellationToken cancellationToken)
    {
        var rows = await db.Playbooks.AsNoTracking().OrderBy(p => p.Name).ToListAsync(cancellationToken);
        return rows.Select(ToView).ToList();
    }

    private static async Task<Results<Ok<PlaybookView>, ProblemHttpResult>> Get(Guid id, HarnessDbContext db, CancellationToken cancellationToken)
    {
        var row = await db.Playbooks.AsNoTracking().SingleOrDefaultAsync(p => p.Id == id, cancellationToken);
        return row is null ? NotFound(id) : TypedResults.Ok(ToView(row));
    }

    private static async Task<Results<Created<PlaybookView>, ValidationProblem, ProblemHttpResult>> Create(
        PlaybookRequest request, HarnessDbContext db, TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var (view, invalid, conflict) = await CreateAsync(request, db, time, user.Actor(), cancellationToken);
        return invalid is not null ? invalid.ToProblem()
            : conflict is not null ? Problems.Conflict("name", conflict)
            : TypedResults.Created($"{Routes.Playbooks}/{view!.Id}", view);
    }

    /// <summary>Validates and saves a new playbook: the API's POST and the console's builder both come here.</summary>
    public static async Task<(PlaybookView? Playbook, ValidationErrors? Invalid, string? Conflict)> CreateAsync(
        PlaybookRequest request, HarnessDbContext db, TimeProvider time, string actor, CancellationToken cancellationToken)
    {
        if (await ValidateAsync(request, db, cancellationToken) is { } invalid)
        {
            return (null, invalid, null);
        }
        if (await db.Playbooks.AnyAsync(p => p.Name == request.Name, cancellationToken))
        {
            return (null, null, $"a playbook named '{request.Name}' exists; PUT {Routes.Playbooks}/{{id}} to change it");
        }
        var now = time.GetUtcNow();
        var row = new PlaybookEntity { Id = Guid.NewGuid(), Name = request.Name!, Items = Serialize(request), CreatedBy = actor, CreatedAt = now, UpdatedAt = now };
        db.Playbooks.Add(row);
        AuditLog.Record(db, now, actor, "playbook.created", row.Name, new { id = row.Id });
        await db.SaveChangesAsync(cancellationToken);
        return (ToView(row), null, null);
    }

    private static async Task<Results<Ok<PlaybookView>, ValidationProblem, ProblemHttpResult>> Update(
        Guid id, PlaybookRequest request, HarnessDbContext db, TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (await ValidateAsync(request, db, cancellationToken) is { } invalid)
        {
            return invalid.ToProblem();
        }
        var row = await db.Playbooks.SingleOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (row is null)
        {
            return NotFound(id);
        }
        if (row.Name != request.Name && await db.Playbooks.AnyAsync(p => p.Name == request.Name, cancellationToken))
        {
            return Problems.Conflict("name", $"another playbook is named '{request.Name}'");
        }
        var now = time.GetUtcNow();
        row.Name = request.Name!;
        row.Items = Serialize(request);
        row.UpdatedAt = now;
        AuditLog.Record(db, now, user.Actor(), "playbook.updated", row.Name, new { id });
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(ToView(row));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(Guid id, HarnessDbContext db, TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var row = await db.Playbooks.SingleOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (row is null)
        {
            return NotFound(id);
        }
        if (await db.Runs.AnyAsync(r => r.PlaybookId == id, cancellationToken))
        {
            return Problems.Conflict("id", $"playbook '{row.Name}' has runs; it is kept so they stay reproducible");
        }
        db.Playbooks.Remove(row);
        AuditLog.Record(db, time.GetUtcNow(), user.Actor(), "playbook.deleted", row.Name, new { id });
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<PlaybookCompileResponse>, ValidationProblem, ProblemHttpResult>> Compile(
        Guid id, PlaybookCompileRequest request, HarnessDbContext db, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        errors.MaxLength("device_id", request.DeviceId, Limits.DeviceIdLength);
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        var playbook = await LoadAsync(db, id, cancellationToken);
        if (playbook is null)
        {
            return NotFound(id);
        }
        var seed = request.Seed ?? NewSeed();
        var deviceId = request.DeviceId ?? "device";
        return TypedResults.Ok(new PlaybookCompileResponse(id, seed, deviceId, PlaybookCompiler.Compile(playbook.Value.Name, playbook.Value.Items, seed, deviceId)));
    }

    /// <summary>A playbook with its assets loaded, ready to compile; null when it does not exist.</summary>
    public static async Task<(string Name, IReadOnlyList<(PlaybookCompiler.Asset Asset, double Probability)> Items)?> LoadAsync(
        HarnessDbContext db, Guid id, CancellationToken cancellationToken)
    {
        var row = await db.Playbooks.AsNoTracking().SingleOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (row is null)
        {
            return null;
        }
        var items = ParseItems(row);
        var ids = items.Select(i => i.AssetId!.Value).Distinct().ToList();
        var assets = await db.CommandAssets.AsNoTracking().Where(a => ids.Contains(a.Id)).ToDictionaryAsync(a => a.Id, cancellationToken);
        // An asset deleted since is skipped (deleting a used asset is refused, so this is a race at most).
        return (row.Name, items.Where(i => assets.ContainsKey(i.AssetId!.Value))
            .Select(i => (CommandAssetsApi.ToAsset(assets[i.AssetId!.Value]), i.Probability ?? 1.0)).ToList());
    }

    public static long NewSeed() => RandomNumberGenerator.GetInt32(int.MaxValue);

    private static async Task<ValidationErrors?> ValidateAsync(PlaybookRequest request, HarnessDbContext db, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        WorkflowValidator.ValidateName(errors, "name", request.Name);
        errors.MaxLength("description", request.Description, Limits.MessageLength);
        if (request.Items is not { Count: > 0 } items)
        {
            errors.Add("items", "at least one command asset is required");
        }
        else if (items.Count > MaxItems)
        {
            errors.Add("items", $"at most {MaxItems} items");
        }
        else
        {
            var ids = items.Where(i => i?.AssetId is not null).Select(i => i.AssetId!.Value).Distinct().ToList();
            var known = (await db.CommandAssets.AsNoTracking().Where(a => ids.Contains(a.Id)).Select(a => a.Id).ToListAsync(cancellationToken)).ToHashSet();
            for (var i = 0; i < items.Count; i++)
            {
                if (items[i] is not { } item)
                {
                    errors.Add($"items[{i}]", "an item object is required");
                    continue;
                }
                if (item.AssetId is not { } assetId)
                {
                    errors.Add($"items[{i}].asset_id", "required");
                }
                else if (!known.Contains(assetId))
                {
                    errors.Add($"items[{i}].asset_id", $"no command asset '{assetId}'");
                }
                if (item.Probability is { } p && (double.IsNaN(p) || p < 0 || p > 1))
                {
                    errors.Add($"items[{i}].probability", "must be between 0 and 1");
                }
            }
        }
        return errors.HasErrors ? errors : null;
    }

    private static string Serialize(PlaybookRequest request) =>
        JsonSerializer.Serialize(request.Items!.Select(i => i with { Probability = i.Probability ?? 1.0 }).ToList(), PlaybookJson.Default.ListPlaybookItem);

    public static List<PlaybookItem> ParseItems(PlaybookEntity row) =>
        JsonSerializer.Deserialize(row.Items, PlaybookJson.Default.ListPlaybookItem)!;

    private static PlaybookView ToView(PlaybookEntity row) => new(row.Id, row.Name, null, ParseItems(row), row.CreatedAt, row.UpdatedAt);

    private static ProblemHttpResult NotFound(Guid id) => Problems.NotFound($"id: no playbook '{id}'");
}
