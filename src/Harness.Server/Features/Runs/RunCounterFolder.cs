using Harness.Server.Data;
using Harness.Server.Features.Dispatch;

namespace Harness.Server.Features.Runs;

/// <summary>
/// Adds the counter moves that callbacks and claims left for a run whose row another transaction was
/// moving (<see cref="HarnessDbContext.MoveRunCountersAsync"/>, PostgreSQL), so a run ends, and starts,
/// even when no later change of it comes to add them. Woken by whoever leaves a move in this process;
/// each replica folds the moves it left. Should a replica stop before it folds, the next change of the run
/// adds them, and the lease sweeper's recount ends a run whose devices have all ended.
/// </summary>
public sealed partial class RunCounterFolder(
    IServiceScopeFactory scopes, TimeProvider time, DispatchSignal signal, ILogger<RunCounterFolder> logger) : BackgroundService
{
    /// <summary>At most one pass per this long: under load the movers themselves add most moves, and the folder only the last.</summary>
    internal static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(100);

    /// <summary>Runs whose moves are added per transaction.</summary>
    private const int Batch = 64;

    // Every folder of the process, as RunProgress is static: waking the folder of another server in the same
    // process (tests, replicas side by side) only makes it look.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<RunCounterFolder, byte> Running = new();

    private readonly SemaphoreSlim _pending = new(0, 1);

    /// <summary>A move was left: fold soon.</summary>
    public static void Wake()
    {
        foreach (var folder in Running.Keys)
        {
            try
            {
                folder._pending.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already awake or about to be.
            }
        }
    }

    public override void Dispose()
    {
        _pending.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Running[this] = 0;
        try
        {
            await FoldUntilStoppedAsync(stoppingToken);
        }
        finally
        {
            Running.TryRemove(this, out _);
        }
    }

    private async Task FoldUntilStoppedAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _pending.WaitAsync(stoppingToken);
                // A run still being moved by another transaction: that one adds what it saw; look again after it.
                while (await FoldAsync(stoppingToken))
                {
                    await Task.Delay(Pace, stoppingToken);
                }
                await Task.Delay(Pace, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogFailed(logger, e);
            }
        }
    }

    /// <summary>One pass over the runs with moves left; true when a run was busy and keeps moves to look at again.</summary>
    public async Task<bool> FoldAsync(CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<HarnessDbContext>();
        var runIds = await db.RunsWithDeferredMovesAsync(Batch, cancellationToken);
        if (runIds.Count == 0)
        {
            return false;
        }
        // Shared, like the callbacks and claims that leave moves: the sweeper and cancels, which recount, wait.
        await using var transaction = await db.BeginSharedLockedTransactionAsync(HarnessLock.Dispatch, cancellationToken);
        var (ended, busy) = await RunProgress.FoldAsync(db, runIds, time.GetUtcNow(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (ended.Count > 0)
        {
            signal.Notify();
        }
        return busy || runIds.Count == Batch;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Adding the run counter moves left by concurrent transactions failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
