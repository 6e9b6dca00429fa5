using Harness.Contracts.Workspaces;
using Harness.Server.Data;
using Harness.Server.Features.Proxy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Workspaces;

/// <summary>
/// Stops running workspaces nobody used through the proxy for <see cref="WorkspaceOptions.IdleStopMinutes"/>:
/// the instance goes, the volume stays, and a start brings it back. A workspace never proxied counts
/// from its last change of state.
/// </summary>
public sealed partial class WorkspaceIdleStopper(
    IServiceScopeFactory scopes, WorkspaceActivity activity, TimeProvider time, IOptions<HarnessServerOptions> options,
    ILogger<WorkspaceIdleStopper> logger) : BackgroundService
{
    public const string Actor = "idle-stopper";

    private WorkspaceOptions Options => options.Value.Workspaces;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicLoop.RunAsync(TimeSpan.FromSeconds(Options.IdleCheckIntervalSec), time, StopIdleAsync, e => LogPassFailed(logger, e), stoppingToken);

    /// <summary>One pass: returns how many workspaces it stopped.</summary>
    public async Task<int> StopIdleAsync(CancellationToken cancellationToken)
    {
        if (Options.IdleStopMinutes == 0)
        {
            return 0;
        }
        // Traffic seen since the last flush counts: write it first.
        await activity.FlushAsync(cancellationToken);
        var idleSince = time.GetUtcNow().AddMinutes(-Options.IdleStopMinutes);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HarnessDbContext>();
        var idle = await db.Workspaces.AsNoTracking()
            .Where(w => w.Status == WorkspaceStatus.Running && (w.LastActivityAt ?? w.UpdatedAt) < idleSince)
            .Select(w => w.Id)
            .ToListAsync(cancellationToken);
        var stopped = 0;
        foreach (var id in idle)
        {
            await using var itemScope = scopes.CreateAsyncScope();
            var service = itemScope.ServiceProvider.GetRequiredService<WorkspaceService>();
            var outcome = await service.StopAsync(id.ToString(), Actor, $"idle for {Options.IdleStopMinutes} minutes", cancellationToken);
            if (outcome.Problem is null)
            {
                stopped++;
                LogStopped(logger, id, Options.IdleStopMinutes);
            }
        }
        return stopped;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "[workspace_id={WorkspaceId}] Stopped: no proxied traffic for {Minutes} minutes")]
    private static partial void LogStopped(ILogger logger, Guid workspaceId, int minutes);

    [LoggerMessage(Level = LogLevel.Error, Message = "An idle-stop pass failed; the next pass tries again")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
