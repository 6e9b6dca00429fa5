using System.Security.Claims;
using Harness.Contracts;
using Harness.Contracts.Agents;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Audit;
using Harness.Server.Features.Devices;
using Harness.Server.Http;
using Harness.Server.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Agents;

public static class AgentsApi
{
    public static IEndpointRouteBuilder MapAgentsApi(this IEndpointRouteBuilder app)
    {
        var agents = app.MapGroup(Routes.Agents).WithTags("Agents").RequireAuthorization(HarnessAuth.OperatorPolicy);
        agents.MapPost("", Register).RequireAuthorization(HarnessAuth.AdminPolicy)
            .WithSummary("Register an agent by name; its API key is returned once.");
        agents.MapGet("", List).WithSummary("Every agent with its online status and last_seen.");
        agents.MapGet("/{agent}", Get).WithSummary("One agent, by id or name.");
        agents.MapPost("/{agent}/revoke", Revoke).RequireAuthorization(HarnessAuth.AdminPolicy)
            .WithSummary("Revoke the agent's key: it gets 401 from then on.");
        agents.MapPost("/{agent}/rotate-key", RotateKey).RequireAuthorization(HarnessAuth.AdminPolicy)
            .WithSummary("Issue a new key (returned once); the old one stops working.");
        agents.MapDelete("/{agent}", Delete).RequireAuthorization(HarnessAuth.AdminPolicy)
            .WithSummary("Remove the agent and release its devices.");
        return app;
    }

    private static async Task<Results<Created<AgentCredentialResponse>, ValidationProblem, ProblemHttpResult>> Register(
        RegisterAgentRequest request, AgentRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        AgentFields.ValidateName(errors, request.Name);
        AgentFields.Validate(errors, request.Runtimes, request.Capacity, request.Region, request.Labels, request.Endpoint);
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        if (await registry.NameTakenAsync(request.Name!, cancellationToken))
        {
            return Problems.Conflict("name", $"an agent named '{request.Name}' exists; rotate its key with POST {Routes.Agents}/{request.Name}/rotate-key");
        }
        var created = await registry.CreateAsync(request.Name!, request.Runtimes, request.Capacity, request.Region, request.Labels, request.Endpoint, null, user.Actor(), cancellationToken);
        return TypedResults.Created($"{Routes.Agents}/{created.Agent.Id}", created);
    }

    private static async Task<Ok<IReadOnlyList<AgentView>>> List(
        HarnessDbContext db, TimeProvider time, IOptions<HarnessServerOptions> options, CancellationToken cancellationToken)
    {
        return TypedResults.Ok(await ListAsync(db, OnlineSince(time, options), cancellationToken));
    }

    /// <summary>Every agent by name with its device count, as the API and the console list them.</summary>
    public static async Task<IReadOnlyList<AgentView>> ListAsync(HarnessDbContext db, DateTimeOffset onlineSince, CancellationToken cancellationToken)
    {
        var agents = await db.Agents.AsNoTracking().OrderBy(a => a.Name).ToListAsync(cancellationToken);
        var counts = await db.Devices.GroupBy(d => d.AgentId).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        return agents.Select(a => a.ToView(onlineSince, counts.GetValueOrDefault(a.Id))).ToList();
    }

    private static async Task<Results<Ok<AgentView>, ProblemHttpResult>> Get(
        string agent, HarnessDbContext db, TimeProvider time, IOptions<HarnessServerOptions> options, CancellationToken cancellationToken)
    {
        var entity = await FindAsync(db, agent, cancellationToken);
        if (entity is null)
        {
            return Problems.NotFound($"agent: no agent '{agent}'");
        }
        var devices = await db.Devices.CountAsync(d => d.AgentId == entity.Id, cancellationToken);
        return TypedResults.Ok(entity.ToView(OnlineSince(time, options), devices));
    }

    private static async Task<Results<Ok<AgentView>, ProblemHttpResult>> Revoke(
        string agent, HarnessDbContext db, TimeProvider time, IOptions<HarnessServerOptions> options, AgentKeyCache keys, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var view = await RevokeAsync(db, time, options, keys, agent, user.Actor(), cancellationToken);
        return view is null ? Problems.NotFound($"agent: no agent '{agent}'") : TypedResults.Ok(view);
    }

    /// <summary>Revokes an agent's key; null when there is no such agent.</summary>
    public static async Task<AgentView?> RevokeAsync(
        HarnessDbContext db, TimeProvider time, IOptions<HarnessServerOptions> options, AgentKeyCache keys, string agent, string actor, CancellationToken cancellationToken)
    {
        var entity = await FindAsync(db, agent, cancellationToken);
        if (entity is null)
        {
            return null;
        }
        var now = time.GetUtcNow();
        entity.KeyRevokedAt ??= now;
        entity.Status = AgentStatuses.Inactive;
        AuditLog.Record(db, now, actor, "agent.key_revoked", entity.Name);
        await AgentKeyChanges.SaveAsync(db, keys, entity.Id, cancellationToken);
        var devices = await db.Devices.CountAsync(d => d.AgentId == entity.Id, cancellationToken);
        return entity.ToView(OnlineSince(time, options), devices);
    }

    private static async Task<Results<Ok<AgentCredentialResponse>, ProblemHttpResult>> RotateKey(
        string agent, HarnessDbContext db, AgentRegistry registry, TimeProvider time, IOptions<HarnessServerOptions> options, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var entity = await FindAsync(db, agent, cancellationToken);
        if (entity is null)
        {
            return Problems.NotFound($"agent: no agent '{agent}'");
        }
        var devices = await db.Devices.CountAsync(d => d.AgentId == entity.Id, cancellationToken);
        return TypedResults.Ok(await registry.RotateKeyAsync(entity, user.Actor(), devices, OnlineSince(time, options), cancellationToken));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string agent, HarnessDbContext db, TimeProvider time, AgentKeyCache keys, FleetSnapshot fleet, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var entity = await FindAsync(db, agent, cancellationToken);
        if (entity is null)
        {
            return Problems.NotFound($"agent: no agent '{agent}'");
        }
        db.Agents.Remove(entity);
        db.WorkerHeartbeats.RemoveRange(db.WorkerHeartbeats.Where(h => h.WorkerId == entity.Id.ToString()));
        AuditLog.Record(db, time.GetUtcNow(), user.Actor(), "agent.deleted", entity.Name);
        await AgentKeyChanges.SaveAsync(db, keys, entity.Id, cancellationToken);
        fleet.Changed(); // its devices went with it
        return TypedResults.NoContent();
    }

    /// <summary>Operators address an agent by its id or by its name (<c>PC-01</c>).</summary>
    internal static Task<AgentEntity?> FindAsync(HarnessDbContext db, string agent, CancellationToken cancellationToken) =>
        Guid.TryParse(agent, out var id)
            ? db.Agents.SingleOrDefaultAsync(a => a.Id == id, cancellationToken)
            : db.Agents.SingleOrDefaultAsync(a => a.Name == agent, cancellationToken);

    internal static DateTimeOffset OnlineSince(TimeProvider time, IOptions<HarnessServerOptions> options) =>
        time.GetUtcNow().AddSeconds(-options.Value.OnlineWindowSec);
}
