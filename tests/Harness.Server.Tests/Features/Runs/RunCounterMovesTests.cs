using Harness.Contracts.Runs;
using Harness.Server.Data;
using Harness.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Harness.Server.Tests.Features.Runs;

/// <summary>
/// PostgreSQL: a change that finds its run's row held by another transaction leaves its counter move and
/// does not wait; the run folder adds it once the row is free.
/// </summary>
public sealed class RunCounterMovesTests() : RunTest(Providers.Postgres)
{
    [Fact]
    public async Task LastCallback_WhileAnotherTransactionHoldsTheRunsRow_DoesNotWait_AndTheRunEndsOnceItLetsGo()
    {
        var key = await FarmAsync("PC-01", 2);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId);
        var tasks = (await PullAsync(key, 2)).Tasks;
        await FinishAsync(key, tasks[0]);

        await using var scope = Server.Services.CreateAsyncScope();
        var holder = scope.ServiceProvider.GetRequiredService<HarnessDbContext>();
        await using (var held = await holder.Database.BeginTransactionAsync())
        {
            await holder.Database.ExecuteSqlAsync($"SELECT 1 FROM runs WHERE id = {run.RunId} FOR NO KEY UPDATE");

            await FinishAsync(key, tasks[1]).WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Equal(RunStatus.Running, (await GetRunAsync(run.RunId)).Run.Status);
            var left = Assert.Single(await QueryAsync(db => db.RunCounterMoves.AsNoTracking().ToListAsync()));
            Assert.Equal((run.RunId, 0, -1, 1), (left.RunId, left.Total, left.Queued, left.Succeeded));
            await held.CommitAsync();
        }

        await Eventually.UntilAsync(async () => (await GetRunAsync(run.RunId)).Run.Status == RunStatus.Succeeded, "the run ended");
        var stored = await QueryAsync(db => db.Runs.AsNoTracking().SingleAsync(r => r.Id == run.RunId));
        Assert.Equal((2, 0, 0, 2), (stored.TotalDevices, stored.QueuedCount, stored.RunningCount, stored.SucceededCount));
        Assert.Empty(await QueryAsync(db => db.RunCounterMoves.ToListAsync()));
    }
}
