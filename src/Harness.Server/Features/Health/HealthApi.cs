using Harness.Contracts;
using Harness.Server.Data;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Health;

public static partial class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        var health = app.MapGroup("").WithTags("Health").AllowAnonymous();
        health.MapGet(Routes.Health, () => TypedResults.Ok(new HealthResponse("ok")))
            .WithSummary("The server process answers.");
        health.MapGet(Routes.HealthLive, () => TypedResults.Ok(new HealthResponse("ok")))
            .WithSummary("Liveness: the process is not wedged.");
        health.MapGet(Routes.HealthReady, Ready)
            .WithSummary("Readiness: the database answers.");
        return app;
    }

    private static async Task<Results<Ok<ReadinessResponse>, JsonHttpResult<ReadinessResponse>>> Ready(
        HarnessDbContext db, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await db.Database.ExecuteSqlRawAsync("SELECT 1", timeout.Token);
            return TypedResults.Ok(new ReadinessResponse("ok", "ok"));
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogNotReady(loggers.CreateLogger(typeof(HealthApi)), e);
            return TypedResults.Json(new ReadinessResponse("unavailable", "unreachable", e.GetType().Name), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Readiness check failed: the database does not answer")]
    private static partial void LogNotReady(ILogger logger, Exception exception);
}
