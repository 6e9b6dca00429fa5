using System.Collections.Concurrent;
using Harness.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Proxy;

/// <summary>
/// Proxied traffic is a workspace's activity. Requests only touch memory; every
/// <c>Harness:Proxy:ActivityFlushSec</c> the latest time per workspace is written to <c>last_activity_at</c>,
/// so a busy workspace costs one UPDATE per flush, not one per request.
/// </summary>
public sealed partial class WorkspaceActivity(
    IServiceScopeFactory scopes, TimeProvider time, IOptions<WorkspaceProxyOptions> options, ILogger<WorkspaceActivity> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _seen = new();
    // One flush at a time: a caller that flushes before reading last_activity_at (the idle stopper)
    // must not find the map emptied by a flush whose UPDATEs are not yet written.
    private readonly SemaphoreSlim _flush = new(1, 1);

    public void Touch(Guid workspaceId) => _seen[workspaceId] = time.GetUtcNow();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.ActivityFlushSec);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            await FlushAsync(CancellationToken.None);
        }
        await FlushAsync(CancellationToken.None);
    }

    /// <summary>Writes what was seen since the last flush.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _flush.WaitAsync(cancellationToken);
        try
        {
            await WriteAsync(cancellationToken);
        }
        finally
        {
            _flush.Release();
        }
    }

    private async Task WriteAsync(CancellationToken cancellationToken)
    {
        if (_seen.IsEmpty)
        {
            return;
        }
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<HarnessDbContext>();
            foreach (var id in _seen.Keys)
            {
                if (_seen.TryRemove(id, out var at))
                {
                    await db.Workspaces.Where(w => w.Id == id && (w.LastActivityAt == null || w.LastActivityAt < at))
                        .ExecuteUpdateAsync(u => u.SetProperty(w => w.LastActivityAt, at), cancellationToken);
                }
            }
        }
        catch (Exception e) when (e is DbUpdateException or InvalidOperationException or System.Data.Common.DbException)
        {
            LogFlushFailed(logger, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording workspace activity failed; it is retried with the next request: {Reason}")]
    private static partial void LogFlushFailed(ILogger logger, string reason);
}
