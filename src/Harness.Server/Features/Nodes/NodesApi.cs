using System.Security.Claims;
using Harness.Contracts;
using Harness.Contracts.Agents;
using Harness.Contracts.Nodes;
using Harness.Server.Data;
using Harness.Server.Features.Agents;
using Harness.Server.Features.Devices;
using Harness.Server.Http;
using Harness.Server.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Nodes;

/// <summary>The routes agents call (<c>/api/nodes/*</c>, the seeds' vocabulary) and the fleet's device status.</summary>
public static class NodesApi
{
    public static IEndpointRouteBuilder MapNodesApi(this IEndpointRouteBuilder app)
    {
        var nodes = app.MapGroup("").WithTags("Nodes");
        nodes.MapPost(Routes.NodesEnroll, Enroll).AllowAnonymous()
            .WithSummary("A new agent enrolls itself with NODE_AGENT_SHARED_SECRET as its bearer token; its key is returned once.");
        nodes.MapPost(Routes.NodesHeartbeat, Heartbeat).RequireAuthorization(HarnessAuth.AgentPolicy)
            .WithSummary("The agent's liveness, state and device inventory.");
        nodes.MapGet(Routes.NodesStatus, Status).RequireAuthorization(HarnessAuth.OperatorPolicy).Produces<NodeStatusResponse>()
            .WithSummary("Every device by index_no, Online or Offline (?node= for one node's). Served from a copy of the fleet a second or two old (a change made through this server shows at once).");
        return app;
    }

    private static async Task<Results<Created<AgentCredentialResponse>, ValidationProblem, ProblemHttpResult>> Enroll(
        EnrollRequest request, HttpRequest http, AgentRegistry registry, IOptions<HarnessServerOptions> options, CancellationToken cancellationToken)
    {
        if (options.Value.EnrollmentSecret is not { } expected)
        {
            return Problems.Forbidden("authorization", "self-enrollment is disabled; set NODE_AGENT_SHARED_SECRET on the server, or register the agent with POST /api/agents");
        }
        var header = http.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
        if (presented.Length == 0 || !SecretKeys.SecretEquals(expected, presented))
        {
            return Problems.Field(StatusCodes.Status401Unauthorized, "Unauthorized", "authorization", "send NODE_AGENT_SHARED_SECRET as 'Authorization: Bearer <secret>'");
        }
        var errors = new ValidationErrors();
        AgentFields.ValidateName(errors, request.Name);
        AgentFields.Validate(errors, request.Runtimes, request.Capacity, request.Region, request.Labels, request.Endpoint);
        errors.MaxLength("version", request.Version, 64);
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        if (await registry.NameTakenAsync(request.Name!, cancellationToken))
        {
            return Problems.Conflict("name", $"'{request.Name}' has enrolled already; an agent enrolls once (an admin can issue a new key with POST {Routes.Agents}/{request.Name}/rotate-key)");
        }
        var created = await registry.CreateAsync(request.Name!, request.Runtimes, request.Capacity, request.Region, request.Labels, request.Endpoint, request.Version, $"enroll:{request.Name}", cancellationToken);
        return TypedResults.Created($"{Routes.Agents}/{created.Agent.Id}", created);
    }

    private static async Task<IResult> Heartbeat(HeartbeatRequest request, ClaimsPrincipal user, HeartbeatHandler handler, Metrics.HarnessMetrics metrics, CancellationToken cancellationToken)
    {
        metrics.Heartbeat();
        var errors = HeartbeatValidation.Validate(request);
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        return await handler.HandleAsync(user.AgentId(), request, cancellationToken);
    }

    private static async Task<IResult> Status(HarnessDbContext db, FleetSnapshot fleet, string? node, HttpContext context, CancellationToken cancellationToken)
    {
        var copy = await fleet.GetAsync(db, cancellationToken);
        return string.IsNullOrEmpty(node)
            ? await copy.StatusBody.ToResultAsync(context)
            : TypedResults.Ok(copy.Status(copy.Devices.Where(d => d.NodeId == node).ToList()));
    }
}
