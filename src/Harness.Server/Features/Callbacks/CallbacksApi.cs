using System.Security.Claims;
using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Harness.Server.Http;
using Harness.Server.Security;

namespace Harness.Server.Features.Callbacks;

public static class CallbacksApi
{
    public static IEndpointRouteBuilder MapCallbacksApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Routes.NodesCallback, Callback).WithTags("Nodes").RequireAuthorization(HarnessAuth.AgentPolicy)
            .Accepts<CallbackBatch>("application/json")
            .WithSummary("Agent events, one or a batch ({\"events\":[…]}), idempotent by event_id and safe out of order.");
        return app;
    }

    private static async Task<IResult> Callback(JsonElement body, ClaimsPrincipal user, CallbackHandler handler, Metrics.HarnessMetrics metrics, CancellationToken cancellationToken)
    {
        IReadOnlyList<CallbackEvent>? events;
        try
        {
            events = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("events", out _)
                ? body.Deserialize(HarnessJsonContext.Default.CallbackBatch)?.Events
                : body.ValueKind == JsonValueKind.Object ? [body.Deserialize(HarnessJsonContext.Default.CallbackEvent)!] : null;
        }
        catch (JsonException e)
        {
            var errors = new ValidationErrors();
            errors.Add(string.IsNullOrEmpty(e.Path) ? "$" : e.Path.TrimStart('$', '.'), "has the wrong type");
            return errors.ToProblem();
        }
        var validation = CallbackValidation.Validate(events);
        if (validation.HasErrors)
        {
            return validation.ToProblem();
        }
        foreach (var e in events!)
        {
            metrics.CallbackEvent(e.Type!);
        }
        return await handler.HandleAsync(user.AgentId(), events, cancellationToken);
    }
}
