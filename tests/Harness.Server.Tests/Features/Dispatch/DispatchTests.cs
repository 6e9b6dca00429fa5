using System.Net.Http.Json;
using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Runs;
using Harness.Server.Data;
using Harness.Server.Features.Dispatch;
using Harness.Server.Tests.Features.Runs;
using Harness.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Harness.Server.Tests.Features.Dispatch;

public abstract class DispatchTests(string provider) : RunTest(provider)
{
    private Task<int> SweepAsync() => Server.Services.GetRequiredService<LeaseSweeper>().SweepAsync(CancellationToken.None);

    [Fact]
    public async Task Pull_LeasesOneTaskPerDevice_UpToFreeSlots_InIndexOrder()
    {
        var key = await FarmAsync("PC-01", 5);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId);

        var first = await PullAsync(key, 3);
        var second = await PullAsync(key, 10, first.Tasks.Select(Ref).ToList());

        Assert.Equal(["PC-01-D01", "PC-01-D02", "PC-01-D03"], first.Tasks.Select(t => t.DeviceId));
        Assert.Equal(["PC-01-D04", "PC-01-D05"], second.Tasks.Select(t => t.DeviceId));
        Assert.All(first.Tasks, t =>
        {
            Assert.Equal(1, t.Attempt);
            Assert.Equal(run.RunId, t.RunId);
            Assert.Equal("_", t.Subject);
            Assert.Equal(3, t.Workflow.Steps!.Count);
            Assert.True(t.LeaseExpiresAt > Server.Time.GetUtcNow());
        });
        Assert.Empty((await PullAsync(key, 10, [.. first.Tasks.Select(Ref), .. second.Tasks.Select(Ref)])).Tasks);
        var detail = await GetRunAsync(run.RunId);
        Assert.All(detail.Devices, d => Assert.Equal(DeviceRunStatus.Dispatched, d.Status));
    }

    [Fact]
    public async Task Release_QueuesUnstartedTasksAgainAtOnce_AndLeavesStartedOnesAlone()
    {
        var key = await FarmAsync("PC-01", 3);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId);
        var tasks = (await PullAsync(key, 3)).Tasks;
        await CallbackAsync(key, Status(tasks[0], DeviceRunStatus.Preflight));

        using var agent = Server.Agent(key);
        var response = await agent.PostAsJsonAsync(Routes.NodesRelease, new ReleaseRequest([.. tasks.Select(Ref)]), HarnessJsonContext.Default.ReleaseRequest);
        response.EnsureSuccessStatusCode();

        Assert.Equal(2, (await response.Content.ReadFromJsonAsync(HarnessJsonContext.Default.ReleaseResponse))!.Released);
        var detail = await GetRunAsync(run.RunId);
        Assert.Equal([DeviceRunStatus.Preflight, DeviceRunStatus.Queued, DeviceRunStatus.Queued], detail.Devices.OrderBy(d => d.DeviceId).Select(d => d.Status));
        // Queued again, they are leased at the next pull (here to the same agent, at the next attempt).
        var again = (await PullAsync(key, 3, [Ref(tasks[0])])).Tasks;
        Assert.Equal([tasks[1].DeviceId, tasks[2].DeviceId], again.Select(t => t.DeviceId));
        Assert.All(again, t => Assert.Equal(2, t.Attempt));
    }

    [Fact]
    public async Task Pull_RunConcurrencyOne_LeasesStrictlyOneDeviceAtATime()
    {
        var key = await FarmAsync("PC-01", 3);
        var workflow = await PushAsync(Capture);
        await RunAsync(workflow.WorkflowId, concurrency: 1);
        var order = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var pulled = await PullAsync(key, 10);
            var task = Assert.Single(pulled.Tasks);
            order.Add(task.DeviceId);
            Assert.Empty((await PullAsync(key, 10, [Ref(task)])).Tasks);
            await FinishAsync(key, task);
        }
        Assert.Equal(["PC-01-D01", "PC-01-D02", "PC-01-D03"], order);
    }

    [Fact]
    public async Task Pull_DeviceTargetedByTwoRuns_RunsTheOlderRunFirst_NeverBothAtOnce()
    {
        var key = await FarmAsync("PC-01", 1);
        var workflow = await PushAsync(Capture);
        var older = await RunAsync(workflow.WorkflowId);
        Server.Time.Advance(TimeSpan.FromSeconds(1));
        var newer = await RunAsync(workflow.WorkflowId);

        var first = Assert.Single((await PullAsync(key, 5)).Tasks);
        Assert.Equal(older.RunId, first.RunId);
        Assert.Empty((await PullAsync(key, 5, [Ref(first)])).Tasks);
        await FinishAsync(key, first);
        var second = Assert.Single((await PullAsync(key, 5)).Tasks);
        Assert.Equal(newer.RunId, second.RunId);
    }

    [Fact]
    public async Task Pull_DeviceWhoseOldestRunIsFull_TakesItsTaskOfTheNextRun_AndOneTaskPerDevice()
    {
        var key = await FarmAsync("PC-01", 2);
        var workflow = await PushAsync(Capture);
        var oldest = await RunAsync(workflow.WorkflowId, concurrency: 1);
        Server.Time.Advance(TimeSpan.FromSeconds(1));
        var middle = await RunAsync(workflow.WorkflowId);
        Server.Time.Advance(TimeSpan.FromSeconds(1));
        await RunAsync(workflow.WorkflowId);

        // D01 takes the oldest run, which is then full; D02 skips it for the next run, and the newest waits.
        var leased = (await PullAsync(key, 5)).Tasks.OrderBy(t => t.DeviceId).Select(t => (t.DeviceId, t.RunId));
        Assert.Equal([("PC-01-D01", oldest.RunId), ("PC-01-D02", middle.RunId)], leased);
    }

    [Fact]
    public async Task Pull_LongPolling_IsAnsweredWhenARunIsCreated()
    {
        var key = await FarmAsync("PC-01", 2);
        var workflow = await PushAsync(Capture);

        // The server's clock is fake and never advances here: only the new run can end this wait.
        var waiting = PullAsync(key, 5, waitMs: 30_000);
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);
        await RunAsync(workflow.WorkflowId);

        var pulled = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, pulled.Tasks.Count);
    }

    [Fact]
    public async Task TaskTheAgentEnded_IsNotListedToCancel_SoTheLongPollKeepsWaiting()
    {
        var key = await FarmAsync("PC-01", 1);
        var workflow = await PushAsync(Capture);
        await RunAsync(workflow.WorkflowId);
        var task = Assert.Single((await PullAsync(key, 1)).Tasks);

        var waiting = PullAsync(key, 1, [Ref(task)], waitMs: 30_000);
        await FinishAsync(key, task);
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted, "a finished task is no news: the pull should still be waiting for work");

        var next = await RunAsync(workflow.WorkflowId);
        var pulled = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(pulled.Cancel);
        Assert.Equal(next.RunId, Assert.Single(pulled.Tasks).RunId);
    }

    [Fact]
    public async Task RunCreated_IsNewsForTheAgentsItQueuedWorkFor_Only()
    {
        var key = await FarmAsync("PC-01", 2);
        await FarmAsync("PC-02", 2);
        var workflow = await PushAsync(Capture);
        var signal = Server.Services.GetRequiredService<DispatchSignal>();
        var forEveryone = signal.Changed;
        var forFirst = signal.ChangedFor(await AgentIdAsync("PC-01"));
        var forSecond = signal.ChangedFor(await AgentIdAsync("PC-02"));

        var waiting = PullAsync(key, 5, waitMs: 30_000);
        await Task.Delay(200);
        await RunAsync(workflow.WorkflowId, new RunTarget(DeviceIds: ["PC-01-D01", "PC-01-D02"]));

        Assert.Equal(2, (await waiting.WaitAsync(TimeSpan.FromSeconds(10))).Tasks.Count);
        Assert.True(forFirst.IsCompleted);
        Assert.False(forSecond.IsCompleted, "PC-02 has nothing new to claim: its pull should not wake");
        Assert.False(forEveryone.IsCompleted, "a run for one agent should not wake every waiting pull");
    }

    [Fact]
    public async Task DeviceFreed_WakesItsAgentsWaitingPull_ForTheNextRunOnThatDevice()
    {
        var key = await FarmAsync("PC-01", 1);
        var workflow = await PushAsync(Capture);
        await RunAsync(workflow.WorkflowId);
        Server.Time.Advance(TimeSpan.FromSeconds(1));
        var next = await RunAsync(workflow.WorkflowId);
        var first = Assert.Single((await PullAsync(key, 2)).Tasks);

        // The server's clock never advances here: only the callback that frees the device ends this wait.
        var waiting = PullAsync(key, 1, [Ref(first)], waitMs: 30_000);
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);
        await FinishAsync(key, first);

        Assert.Equal(next.RunId, Assert.Single((await waiting.WaitAsync(TimeSpan.FromSeconds(10))).Tasks).RunId);
    }

    [Fact]
    public async Task RunSlotFreedOnOneAgent_WakesAnotherAgentsWaitingPull_WhenTheRunsConcurrencyHeldItBack()
    {
        var first = await FarmAsync("PC-01", 1);
        var second = await FarmAsync("PC-02", 1);
        var workflow = await PushAsync(Capture);
        await RunAsync(workflow.WorkflowId, new RunTarget(DeviceIds: ["PC-01-D01", "PC-02-D01"]), concurrency: 1);
        var task = Assert.Single((await PullAsync(first, 1)).Tasks);
        Assert.Empty((await PullAsync(second, 1)).Tasks);

        var waiting = PullAsync(second, 1, waitMs: 30_000);
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);
        await FinishAsync(first, task);

        Assert.Equal("PC-02-D01", Assert.Single((await waiting.WaitAsync(TimeSpan.FromSeconds(10))).Tasks).DeviceId);
    }

    [Fact]
    public async Task ConcurrentPulls_OfManyAgents_NeverExceedARunsConcurrency_NorLeaseOneDeviceTwice()
    {
        var keys = new List<string>();
        for (var n = 1; n <= 6; n++)
        {
            keys.Add(await FarmAsync($"PC-{n:00}", 3));
        }
        var workflow = await PushAsync(Capture);
        // Both runs on every device: the bounded one counts its slots across agents, the other competes for the devices.
        var bounded = await RunAsync(workflow.WorkflowId, concurrency: 4);
        Server.Time.Advance(TimeSpan.FromSeconds(1));
        var open = await RunAsync(workflow.WorkflowId);

        var leased = 0;
        for (var round = 0; round < 40 && leased < 36; round++)
        {
            // Every agent pulls twice at once (a retry racing its first try), all agents at the same moment.
            var pulls = await Task.WhenAll(keys.SelectMany(key => new[] { key, key }).Select(async key => (Key: key, Pull: await PullAsync(key, 3))));
            var tasks = pulls.SelectMany(p => p.Pull.Tasks.Select(t => (p.Key, Task: t))).ToList();
            leased += tasks.Count;

            var active = await QueryAsync(db => db.RunDeviceStates.AsNoTracking()
                .Where(s => s.Status == DeviceRunStatus.Dispatched)
                .Select(s => new { s.RunId, s.DeviceId })
                .ToListAsync());
            Assert.Equal(tasks.Count, active.Count);
            Assert.True(active.Count(a => a.RunId == bounded.RunId) <= 4, $"round {round}: {active.Count(a => a.RunId == bounded.RunId)} tasks of a run of concurrency 4 at once");
            Assert.All(active.GroupBy(a => a.DeviceId), g => Assert.Single(g));

            await Task.WhenAll(tasks.Select(t => FinishAsync(t.Key, t.Task)));
            Server.Time.Advance(DispatchSignal.RecheckInterval);
        }

        Assert.Equal(36, leased);
        // Callbacks that end devices at once leave their counter moves to one another; the last are added just after.
        await Eventually.UntilAsync(async () => (await GetRunAsync(bounded.RunId)).Run.Status == RunStatus.Succeeded, "the bounded run ended");
        await Eventually.UntilAsync(async () => (await GetRunAsync(open.RunId)).Run.Status == RunStatus.Succeeded, "the other run ended");
    }

    [Fact]
    public async Task ClaimGroup_LeasesEachAgentAsItsOwnClaimWould_SharingTheRunsSlots_AndLeavesScansToTheirOwnClaim()
    {
        await FarmAsync("PC-01", 2);
        await FarmAsync("PC-02", 2);
        var scanning = await FarmAsync("PC-03", 1);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId, concurrency: 3);
        using (var admin = Server.Operator())
        {
            (await admin.PostAsJsonAsync(Routes.NodesScan, new ScanRequest("PC-03"), Json.ScanRequest)).EnsureSuccessStatusCode();
        }
        var agents = await QueryAsync(db => db.Agents.AsNoTracking().ToDictionaryAsync(a => a.Name, a => a.Id));

        await using var scope = Server.Services.CreateAsyncScope();
        var dispatcher = scope.ServiceProvider.GetRequiredService<Dispatcher>();
        var answers = await dispatcher.ClaimGroupAsync(
            [(agents["PC-01"], 2), (agents["PC-02"], 2), (agents["PC-01"], 1), (agents["PC-03"], 1)], CancellationToken.None);

        // In order: PC-01 takes both its devices, PC-02 the run's last slot; PC-01's second claim and PC-03 (a
        // pending scan) are left to claim on their own.
        Assert.Equal(["PC-01-D01", "PC-01-D02"], answers[0]!.Select(t => t.DeviceId));
        Assert.Equal(["PC-02-D01"], answers[1]!.Select(t => t.DeviceId));
        Assert.Null(answers[2]);
        Assert.Null(answers[3]);
        Assert.All(answers[0]!.Concat(answers[1]!), t => Assert.Equal((run.RunId, 1), (t.RunId, t.Attempt)));
        var leased = await QueryAsync(db => db.RunDeviceStates.AsNoTracking().Where(s => s.Status == DeviceRunStatus.Dispatched).ToListAsync());
        Assert.Equal(
            [("PC-01-D01", agents["PC-01"].ToString()), ("PC-01-D02", agents["PC-01"].ToString()), ("PC-02-D01", agents["PC-02"].ToString())],
            leased.OrderBy(s => s.DeviceId, StringComparer.Ordinal).Select(s => (s.DeviceId, s.LeaseOwner!)));
        // PC-03's own pull gets its scan; nothing of the full run.
        var own = await PullAsync(scanning, 1);
        Assert.Single(own.Scans);
        Assert.Empty(own.Tasks);
    }

    [Fact]
    public async Task ArrivingPull_TakesTheWordOfASharedReadThatSaysItHasNothing_ForNoLongerThanTheRecheckInterval()
    {
        var key = await FarmAsync("PC-01", 1);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId);
        var task = Assert.Single((await PullAsync(key, 1)).Tasks);
        var work = Server.Services.GetRequiredService<DispatchWork>();
        var agentId = await AgentIdAsync("PC-01");
        Assert.False(await work.MayHaveWorkAsync(agentId, 0, Server.Time.GetUtcNow(), CancellationToken.None));

        // A change nobody was told about (another replica's, whose notification was lost): the task is queued again.
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<HarnessDbContext>();
            var state = await db.RunDeviceStates.SingleAsync(s => s.RunId == run.RunId);
            state.Status = DeviceRunStatus.Queued;
            state.LeaseOwner = null;
            state.LeaseExpiresAt = null;
            await db.SaveChangesAsync();
        }

        Assert.Empty((await PullAsync(key, 1)).Tasks);
        Server.Time.Advance(DispatchSignal.RecheckInterval);
        Assert.Equal(task.DeviceId, Assert.Single((await PullAsync(key, 1)).Tasks).DeviceId);
    }

    [Fact]
    public async Task ArrivingPull_LooksForItself_WhenThereWasNewsForItsAgentSinceTheSharedRead()
    {
        var key = await FarmAsync("PC-01", 1);
        await FarmAsync("PC-02", 1);
        var workflow = await PushAsync(Capture);
        var work = Server.Services.GetRequiredService<DispatchWork>();
        var agentId = await AgentIdAsync("PC-01");
        Assert.False(await work.MayHaveWorkAsync(agentId, 0, Server.Time.GetUtcNow(), CancellationToken.None));

        // The clock stands still, so the shared read stays fresh: only the news for PC-01 makes its pull look.
        await RunAsync(workflow.WorkflowId, new RunTarget(DeviceIds: ["PC-01-D01"]));

        Assert.True(await work.MayHaveWorkOnArrivalAsync(agentId, CancellationToken.None));
        Assert.False(await work.MayHaveWorkOnArrivalAsync(await AgentIdAsync("PC-02"), CancellationToken.None), "news for PC-01 says nothing new about PC-02");
        Assert.Equal("PC-01-D01", Assert.Single((await PullAsync(key, 1)).Tasks).DeviceId);
    }

    private async Task<Guid> AgentIdAsync(string name)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HarnessDbContext>();
        return (await db.Agents.AsNoTracking().SingleAsync(a => a.Name == name)).Id;
    }

    [Fact]
    public async Task LapsedLease_NotStarted_IsRequeuedWithTheNextAttempt()
    {
        var key = await FarmAsync("PC-01", 1);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId);
        var task = Assert.Single((await PullAsync(key, 1)).Tasks);

        Server.Time.Advance(TimeSpan.FromSeconds(61));
        await SweepAsync(); // The background sweeper may get there first; either way it happens once.

        Assert.Equal(DeviceRunStatus.Queued, (await GetRunAsync(run.RunId)).Devices[0].Status);
        var again = Assert.Single((await PullAsync(key, 1)).Tasks);
        Assert.Equal(2, again.Attempt);
        var stale = await CallbackAsync(key, Status(task, DeviceRunStatus.Running));
        Assert.True(stale.Ignored == 1, System.Text.Json.JsonSerializer.Serialize(stale, Json.CallbackResponse));
    }

    [Fact]
    public async Task LapsedLease_Started_FailsAsNodeLost_AndTheRunEnds()
    {
        var key = await FarmAsync("PC-01", 1);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId);
        var task = Assert.Single((await PullAsync(key, 1)).Tasks);
        await CallbackAsync(key, Status(task, DeviceRunStatus.Running));

        Server.Time.Advance(TimeSpan.FromSeconds(61));
        await SweepAsync();

        var detail = await GetRunAsync(run.RunId);
        Assert.Equal((DeviceRunStatus.Failed, FailureReasons.NodeLost), (detail.Devices[0].Status, detail.Devices[0].FailureReason));
        Assert.Equal(RunStatus.Failed, detail.Run.Status);
    }

    [Fact]
    public async Task HeldTasks_KeepTheirLease_WhileTheAgentPulls()
    {
        var key = await FarmAsync("PC-01", 1);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId);
        var task = Assert.Single((await PullAsync(key, 1)).Tasks);
        await CallbackAsync(key, Status(task, DeviceRunStatus.Running));

        for (var i = 0; i < 5; i++)
        {
            Server.Time.Advance(TimeSpan.FromSeconds(40));
            await PullAsync(key, 0, [Ref(task)]);
            await SweepAsync();
        }

        Assert.Equal(DeviceRunStatus.Running, (await GetRunAsync(run.RunId)).Devices[0].Status);
    }

    [Fact]
    public async Task StartedTask_PastItsHardDeadline_IsTimedOutByTheServer()
    {
        var key = await FarmAsync("PC-01", 1);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId);
        var task = Assert.Single((await PullAsync(key, 1)).Tasks);
        await CallbackAsync(key, Status(task, DeviceRunStatus.Running));

        // Keep the lease alive; only the deadline can end it.
        var deadline = task.DeadlineAt.AddSeconds(31);
        while (Server.Time.GetUtcNow() < deadline)
        {
            Server.Time.Advance(TimeSpan.FromSeconds(30));
            await PullAsync(key, 0, [Ref(task)]);
        }
        await SweepAsync();

        var device = (await GetRunAsync(run.RunId)).Devices[0];
        Assert.Equal((DeviceRunStatus.TimedOut, FailureReasons.TaskTimeout), (device.Status, device.FailureReason));
    }

    [Fact]
    public async Task Pull_BadRequest_Is400NamingTheField()
    {
        var key = await FarmAsync("PC-01", 1);
        using var agent = Server.Agent(key);
        var response = await agent.PostAsync(Harness.Contracts.Routes.NodesPull, RawJson("""{"free_slots":-1,"holds":[{"run_id":"00000000-0000-0000-0000-000000000001","attempt":0}]}"""));
        var problem = await AssertProblemAsync(response, System.Net.HttpStatusCode.BadRequest, "free_slots");
        Assert.True(problem.GetProperty("errors").TryGetProperty("holds[0].device_id", out _));
    }
}

public sealed class DispatchTests_Sqlite() : DispatchTests(Providers.Sqlite);

public sealed class DispatchTests_Postgres() : DispatchTests(Providers.Postgres);
