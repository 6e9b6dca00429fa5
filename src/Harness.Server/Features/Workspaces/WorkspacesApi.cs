using System.Security.Claims;
using Harness.Contracts;
using Harness.Contracts.Tokens;
using Harness.Contracts.Workspaces;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Http;
using Harness.Server.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Workspaces;

/// <summary>
/// Workspaces (docs/workspaces.md): each operation answers when the agent has done its part, with the
/// workspace as it ended (a failure is the workspace in <c>error</c> with last_error_message).
/// </summary>
public static class WorkspacesApi
{
    public static IEndpointRouteBuilder MapWorkspacesApi(this IEndpointRouteBuilder app)
    {
        var workspaces = app.MapGroup(Routes.Workspaces).WithTags("Workspaces").RequireAuthorization(HarnessAuth.OperatorPolicy);
        workspaces.MapPost("", Create).WithSummary("Create a workspace: place it, create its volume and start its instance.")
            .Produces<WorkspaceView>(StatusCodes.Status201Created).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        workspaces.MapGet("", List).WithSummary("Workspaces, newest first, keyset-paged; filter by status or agent.");
        workspaces.MapGet("/{workspace}", Get).WithSummary("One workspace, by id or name.")
            .Produces<WorkspaceView>().ProducesProblem(StatusCodes.Status404NotFound);
        Operation(workspaces.MapPost("/{workspace}/start", Start), "Start a stopped (or failed) workspace's instance on its volume.");
        Operation(workspaces.MapPost("/{workspace}/stop", Stop), "Delete the instance, keep the volume: → stopped.");
        Operation(workspaces.MapPost("/{workspace}/archive", Archive), "Stop, store the volume as a tar.gz on the server, delete the volume: → archived.");
        Operation(workspaces.MapPost("/{workspace}/restore", Restore),
                "Recreate the volume from the archive (placing the workspace again if its agent cannot take it): → stopped, or running with {\"start\": true}.")
            .Accepts<RestoreWorkspaceRequest>("application/json");
        workspaces.MapDelete("/{workspace}", Delete)
            .WithSummary("Delete instance and volume on the agent, then the workspace. ?force=true (admin) removes it without reaching the agent.")
            .Produces(StatusCodes.Status204NoContent).Produces<WorkspaceView>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    private static RouteHandlerBuilder Operation(RouteHandlerBuilder route, string summary) =>
        route.WithSummary(summary).Produces<WorkspaceView>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

    private static async Task<IResult> Create(CreateWorkspaceRequest request, WorkspaceService service, HarnessDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var errors = WorkspaceFields.Validate(request);
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        var outcome = await service.CreateAsync(request, user.Actor(), cancellationToken);
        if (outcome.Problem is not null)
        {
            return outcome.Problem;
        }
        var view = await ViewAsync(db, outcome.Workspace!, cancellationToken);
        return TypedResults.Created($"{Routes.Workspaces}/{view.Id}", view);
    }

    private static async Task<Results<Ok<Page<WorkspaceView>>, ValidationProblem, ProblemHttpResult>> List(
        HarnessDbContext db, string? limit, string? cursor, string? status, string? agent, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var page = PageRequest.Parse(limit, cursor, errors);
        if (status is not null && !WorkspaceStatus.All.Contains(status))
        {
            errors.Add("status", $"must be one of {string.Join(", ", WorkspaceStatus.All)}");
        }
        errors.MaxLength("agent", agent, Limits.NameLength);
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        Guid? agentId = null;
        if (agent is not null)
        {
            agentId = Guid.TryParse(agent, out var parsed)
                ? parsed
                : await db.Agents.Where(a => a.Name == agent).Select(a => (Guid?)a.Id).SingleOrDefaultAsync(cancellationToken);
            if (agentId is null)
            {
                return Problems.Field(StatusCodes.Status404NotFound, "Not found", "agent", $"no agent '{agent}'");
            }
        }
        return TypedResults.Ok(await PageAsync(db, page, status, agentId, cancellationToken));
    }

    /// <summary>One page of workspaces, newest first, as the API and the console list them.</summary>
    public static async Task<Page<WorkspaceView>> PageAsync(HarnessDbContext db, PageRequest page, string? status, Guid? agentId, CancellationToken cancellationToken)
    {
        var query = db.Workspaces.AsNoTracking();
        if (status is not null)
        {
            query = query.Where(w => w.Status == status);
        }
        if (agentId is not null)
        {
            query = query.Where(w => w.AgentId == agentId);
        }
        if (page.After is { } after)
        {
            var at = after.CreatedAt;
            var id = after.Id;
            query = query.Where(w => w.CreatedAt < at || (w.CreatedAt == at && w.Id.CompareTo(id) < 0));
        }
        var rows = await query.OrderByDescending(w => w.CreatedAt).ThenByDescending(w => w.Id).Take(page.Take + 1).ToListAsync(cancellationToken);
        var next = page.Trim(rows, w => (w.CreatedAt, w.Id));
        var names = await AgentNamesAsync(db, rows, cancellationToken);
        return new Page<WorkspaceView>(rows.Select(w => w.ToView(w.AgentId is { } a ? names.GetValueOrDefault(a) : null)).ToList(), next);
    }

    private static async Task<IResult> Get(string workspace, WorkspaceService service, HarnessDbContext db, CancellationToken cancellationToken)
    {
        var entity = await service.FindAsync(workspace, cancellationToken);
        return entity is null ? WorkspaceService.NotFound(workspace) : TypedResults.Ok(await ViewAsync(db, entity, cancellationToken));
    }

    private static Task<IResult> Start(string workspace, WorkspaceService service, HarnessDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        RespondAsync(db, service.StartAsync(workspace, user.Actor(), cancellationToken), cancellationToken);

    private static Task<IResult> Stop(string workspace, WorkspaceService service, HarnessDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        RespondAsync(db, service.StopAsync(workspace, user.Actor(), reason: null, cancellationToken), cancellationToken);

    private static Task<IResult> Archive(string workspace, WorkspaceService service, HarnessDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        RespondAsync(db, service.ArchiveAsync(workspace, user.Actor(), cancellationToken), cancellationToken);

    private static async Task<IResult> Restore(
        string workspace, HttpRequest http, WorkspaceService service, HarnessDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        // The body is optional: POST …/restore alone restores to stopped.
        RestoreWorkspaceRequest? request = null;
        if (http.ContentLength is > 0 || http.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                request = await http.ReadFromJsonAsync(HarnessJsonContext.Default.RestoreWorkspaceRequest, cancellationToken);
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
            {
                return Problems.Field(StatusCodes.Status400BadRequest, "The request is invalid", "body", $"must be a JSON object such as {{\"start\": true}} ({e.Message})");
            }
        }
        return await RespondAsync(db, service.RestoreAsync(workspace, request?.Start ?? false, user.Actor(), cancellationToken), cancellationToken);
    }

    private static async Task<IResult> Delete(
        string workspace, [FromQuery] string? force, WorkspaceService service, HarnessDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var forced = false;
        if (force is not null && !bool.TryParse(force, out forced))
        {
            return Problems.Field(StatusCodes.Status400BadRequest, "Bad request", "force", "must be true or false");
        }
        if (forced && !user.HasClaim(HarnessAuth.RoleClaim, OperatorRoles.Admin))
        {
            return Problems.Forbidden("force", "only an admin may delete a workspace without its agent (its instance and volume are left behind)");
        }
        var outcome = await service.DeleteAsync(workspace, forced, user.Actor(), cancellationToken);
        if (outcome.Problem is not null)
        {
            return outcome.Problem;
        }
        if (outcome.Removed)
        {
            return TypedResults.NoContent();
        }
        // Still deleting: the agent did not answer; the reconciler retries.
        return TypedResults.Accepted($"{Routes.Workspaces}/{outcome.Workspace!.Id}", await ViewAsync(db, outcome.Workspace, cancellationToken));
    }

    private static async Task<IResult> RespondAsync(HarnessDbContext db, Task<WorkspaceOutcome> operation, CancellationToken cancellationToken)
    {
        var outcome = await operation;
        if (outcome.Problem is not null)
        {
            return outcome.Problem;
        }
        if (outcome.Removed)
        {
            return Problems.NotFound($"workspace: '{outcome.Workspace?.Name}' was deleted while the operation ran");
        }
        return TypedResults.Ok(await ViewAsync(db, outcome.Workspace!, cancellationToken));
    }

    internal static async Task<WorkspaceView> ViewAsync(HarnessDbContext db, WorkspaceEntity workspace, CancellationToken cancellationToken)
    {
        var agentName = workspace.AgentId is { } agentId
            ? await db.Agents.AsNoTracking().Where(a => a.Id == agentId).Select(a => a.Name).SingleOrDefaultAsync(cancellationToken)
            : null;
        return workspace.ToView(agentName);
    }

    private static async Task<Dictionary<Guid, string>> AgentNamesAsync(HarnessDbContext db, List<WorkspaceEntity> rows, CancellationToken cancellationToken)
    {
        var ids = rows.Where(w => w.AgentId is not null).Select(w => w.AgentId!.Value).Distinct().ToList();
        return await db.Agents.AsNoTracking().Where(a => ids.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, cancellationToken);
    }
}
