using System.Security.Claims;
using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Harness.Server.Data;
using Harness.Server.Http;
using Harness.Server.Security;

namespace Harness.Server.Features.Dispatch;

public static class DispatchApi
{
    public const int MaxHolds = 10_000;

    public static IEndpointRouteBuilder MapDispatchApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Routes.NodesPull, Pull).WithTags("Nodes").RequireAuthorization(HarnessAuth.AgentPolicy)
            .WithSummary("Long-poll for device tasks up to free_slots; renews the leases of held tasks and lists those to stop.");
        app.MapPost(Routes.NodesRelease, Release).WithTags("Nodes").RequireAuthorization(HarnessAuth.AgentPolicy)
            .WithSummary("A stopping agent hands back leased tasks it never started; they are queued again at once.");
        return app;
    }

    private static async Task<Results<Ok<PullResponse>, ValidationProblem>> Pull(
        PullRequest request, ClaimsPrincipal user, Dispatcher dispatcher, IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        errors.Range("free_slots", request.FreeSlots, 0, 10_000);
        errors.Range("wait_ms", request.WaitMs, 0, 120_000);
        if (request.Holds is { } holds)
        {
            if (holds.Count > MaxHolds)
            {
                errors.Add("holds", $"at most {MaxHolds} entries");
            }
            for (var i = 0; i < Math.Min(holds.Count, MaxHolds); i++)
            {
                if (holds[i] is null)
                {
                    errors.Add($"holds[{i}]", "a task reference is required");
                    continue;
                }
                errors.Required($"holds[{i}].device_id", holds[i].DeviceId, Limits.DeviceIdLength);
                errors.Range($"holds[{i}].attempt", holds[i].Attempt, 1, int.MaxValue);
            }
        }
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        return TypedResults.Ok(await dispatcher.PullAsync(user.AgentId(), request, cancellationToken, lifetime.ApplicationStopping));
    }

    private static async Task<Results<Ok<ReleaseResponse>, ValidationProblem>> Release(
        ReleaseRequest request, ClaimsPrincipal user, Dispatcher dispatcher, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var tasks = request.Tasks ?? [];
        if (tasks.Count > MaxHolds)
        {
            errors.Add("tasks", $"at most {MaxHolds} entries");
        }
        for (var i = 0; i < Math.Min(tasks.Count, MaxHolds); i++)
        {
            if (tasks[i] is null)
            {
                errors.Add($"tasks[{i}]", "a task reference is required");
                continue;
            }
            errors.Required($"tasks[{i}].device_id", tasks[i].DeviceId, Limits.DeviceIdLength);
            errors.Range($"tasks[{i}].attempt", tasks[i].Attempt, 1, int.MaxValue);
        }
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        return TypedResults.Ok(new ReleaseResponse(await dispatcher.ReleaseAsync(user.AgentId(), tasks, cancellationToken)));
    }
}
