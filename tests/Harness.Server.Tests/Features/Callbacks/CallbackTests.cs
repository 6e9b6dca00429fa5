using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Harness.Contracts;
using Harness.Contracts.Dashboard;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Nodes;
using Harness.Contracts.Runs;
using Harness.Contracts.Workflows;
using Harness.Server.Tests.Features.Runs;
using Harness.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Harness.Server.Tests.Features.Callbacks;

public abstract class CallbackTests(string provider) : RunTest(provider)
{
    [Fact]
    public async Task Events_MoveTheDeviceAlong_RecordSteps_AndEndTheRun()
    {
        var key = await FarmAsync("PC-01", 2);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId);
        var tasks = (await PullAsync(key, 2)).Tasks;

        await CallbackAsync(key, Status(tasks[0], DeviceRunStatus.Preflight), Step(tasks[0], "shot", StepStatus.Running), Step(tasks[0], "shot", StepStatus.Succeeded));
        Assert.Equal(RunStatus.Running, (await GetRunAsync(run.RunId)).Run.Status);
        await FinishAsync(key, tasks[0]);
        await FinishAsync(key, tasks[1], DeviceRunStatus.Failed, FailureReasons.DeviceUnresponsive);

        var detail = await GetRunAsync(run.RunId);
        Assert.Equal(RunStatus.Failed, detail.Run.Status);
        Assert.Equal((1, 1), (detail.Run.Counts.Succeeded, detail.Run.Counts.Failed));
        var step = Assert.Single(detail.Devices[0].Steps);
        Assert.Equal(("shot", StepStatus.Succeeded), (step.StepId, step.Status));
        Assert.Equal(FailureReasons.DeviceUnresponsive, detail.Devices[1].FailureReason);
        Assert.NotNull(detail.Run.FinishedAt);
    }

    [Fact]
    public async Task StoredRunCounters_MoveWithEveryChange_AndAgreeWithARecount()
    {
        var key = await FarmAsync("PC-01", 5, 4);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId);
        await AssertCountersAgreeAsync(run.RunId); // one device skipped offline at creation
        var tasks = (await PullAsync(key, 4)).Tasks;
        Assert.Equal(4, tasks.Count);
        await AssertCountersAgreeAsync(run.RunId);

        await CallbackAsync(key, Status(tasks[0], DeviceRunStatus.Preflight), Status(tasks[1], DeviceRunStatus.Running), Status(tasks[2], DeviceRunStatus.Waiting));
        await AssertCountersAgreeAsync(run.RunId);
        await CallbackAsync(key, Status(tasks[0], DeviceRunStatus.Running), Status(tasks[1], DeviceRunStatus.Preflight)); // the stale one is ignored
        await AssertCountersAgreeAsync(run.RunId);
        await FinishAsync(key, tasks[0]);
        await FinishAsync(key, tasks[1], DeviceRunStatus.Failed, FailureReasons.DeviceUnresponsive);
        await FinishAsync(key, tasks[2], DeviceRunStatus.TimedOut);
        await FinishAsync(key, tasks[2]); // already ended: ignored
        await AssertCountersAgreeAsync(run.RunId);
        Assert.Equal(RunStatus.Running, (await GetRunAsync(run.RunId)).Run.Status);

        using var admin = Server.Operator();
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"{Routes.Runs}/{run.RunId}/cancel", null)).StatusCode);
        var stored = await AssertCountersAgreeAsync(run.RunId);
        Assert.Equal((5, 0, 0, 1, 2, 1, 1), (stored.TotalDevices, stored.QueuedCount, stored.RunningCount, stored.SucceededCount, stored.FailedCount, stored.SkippedCount, stored.CancelledCount));
        Assert.Equal(RunStatus.Cancelled, stored.Status);
    }

    [Fact]
    public async Task ConcurrentCallbacks_OfManyAgentsOnOneRun_EachApplyOnce_AndTheRunEndsWithCountersThatAgree()
    {
        var keys = new List<string>();
        for (var n = 1; n <= 6; n++)
        {
            keys.Add(await FarmAsync($"PC-{n:00}", 4));
        }
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId, concurrency: 24);
        var tasks = new List<(string Key, DeviceTask Task)>();
        foreach (var key in keys)
        {
            tasks.AddRange((await PullAsync(key, 4)).Tasks.Select(t => (key, t)));
        }
        Assert.Equal(24, tasks.Count);

        // Every task reports at once, and each batch twice at once: an agent's retry racing its first try.
        await Task.WhenAll(tasks.Select(async x =>
        {
            CallbackEvent[] batch = [Status(x.Task, DeviceRunStatus.Preflight), Status(x.Task, DeviceRunStatus.Running), Status(x.Task, DeviceRunStatus.Succeeded)];
            var answers = await Task.WhenAll(PostCallbackAsync(x.Key, batch), PostCallbackAsync(x.Key, batch));
            Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        }));

        // Callbacks that move the run at once leave their moves to one another; the last are added just after.
        await Eventually.UntilAsync(async () => (await GetRunAsync(run.RunId)).Run.Status == RunStatus.Succeeded, "the run ended");
        var stored = await AssertCountersAgreeAsync(run.RunId);
        Assert.Equal((24, 24, RunStatus.Succeeded), (stored.TotalDevices, stored.SucceededCount, stored.Status));
        Assert.Empty(await QueryAsync(db => db.RunCounterMoves.ToListAsync()));
        Assert.Equal(72, await QueryAsync(db => db.CallbackEvents.CountAsync(c => c.RunId == run.RunId)));
    }

    /// <summary>The run's stored counters (moved by each change) equal a recount of its device states (what the API shows).</summary>
    private async Task<Harness.Server.Data.Entities.RunEntity> AssertCountersAgreeAsync(Guid runId)
    {
        var c = (await GetRunAsync(runId)).Run.Counts;
        var stored = await QueryAsync(db => db.Runs.AsNoTracking().SingleAsync(r => r.Id == runId));
        Assert.Equal(
            (c.Total, c.Queued + c.Dispatched, c.Preflight + c.Running + c.Waiting, c.Succeeded, c.Failed + c.TimedOut, c.SkippedOffline, c.Cancelled),
            (stored.TotalDevices, stored.QueuedCount, stored.RunningCount, stored.SucceededCount, stored.FailedCount, stored.SkippedCount, stored.CancelledCount));
        return stored;
    }

    [Fact]
    public async Task DuplicateAndReorderedEvents_ChangeNothing()
    {
        var key = await FarmAsync("PC-01", 1);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId);
        var task = Assert.Single((await PullAsync(key, 1)).Tasks);
        var running = Status(task, DeviceRunStatus.Running);
        var done = Status(task, DeviceRunStatus.Succeeded);
        var shotDone = Step(task, "shot", StepStatus.Succeeded);

        // Out of order: success first, then the late "running" and a late step start.
        var first = await CallbackAsync(key, done, shotDone);
        var late = await CallbackAsync(key, running, Step(task, "shot", StepStatus.Running));
        var replay = await CallbackAsync(key, done, shotDone, running);

        Assert.Equal(2, first.Accepted);
        Assert.Equal(2, late.Ignored);
        Assert.Equal(3, replay.Duplicates);
        var detail = await GetRunAsync(run.RunId);
        Assert.Equal(DeviceRunStatus.Succeeded, detail.Devices[0].Status);
        Assert.Equal(StepStatus.Succeeded, Assert.Single(detail.Devices[0].Steps).Status);
        Assert.Equal(RunStatus.Succeeded, detail.Run.Status);
        Assert.Equal(4, await QueryAsync(db => db.CallbackEvents.CountAsync()));
    }

    [Fact]
    public async Task BadBatch_Is400NamingTheEvent_AndNothingIsStored()
    {
        var key = await FarmAsync("PC-01", 1);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId);
        var task = Assert.Single((await PullAsync(key, 1)).Tasks);

        var response = await PostCallbackAsync(key, Status(task, DeviceRunStatus.Running), Status(task, "exploded"));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "events[1].status");
        var unknownRun = await PostCallbackAsync(key, Status(task, DeviceRunStatus.Running) with { RunId = Guid.NewGuid() });
        await AssertProblemAsync(unknownRun, HttpStatusCode.BadRequest, "events[0].run_id");
        var unknownDevice = await PostCallbackAsync(key, Status(task, DeviceRunStatus.Running) with { DeviceId = "not-in-run" });
        await AssertProblemAsync(unknownDevice, HttpStatusCode.BadRequest, "events[0].device_id");
        using var agent = Server.Agent(key);
        var wrongType = await agent.PostAsync(Routes.NodesCallback, RawJson("""{"events":[{"event_id":"e1","type":"device.status","attempt":"one"}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        var empty = await agent.PostAsync(Routes.NodesCallback, RawJson("""{"events":[]}"""));
        await AssertProblemAsync(empty, HttpStatusCode.BadRequest, "events");

        Assert.Equal(0, await QueryAsync(db => db.CallbackEvents.CountAsync()));
        Assert.Equal(DeviceRunStatus.Dispatched, (await GetRunAsync(run.RunId)).Devices[0].Status);
    }

    [Fact]
    public async Task AnotherNodesDevice_Is403_AndNothingIsStored()
    {
        var key = await FarmAsync("PC-01", 1);
        var other = await FarmAsync("PC-02", 1);
        var workflow = await PushAsync(Capture);
        await RunAsync(workflow.WorkflowId);
        var task = (await PullAsync(key, 1)).Tasks.Single();
        var running = Status(task, DeviceRunStatus.Running);

        var response = await PostCallbackAsync(other, running);

        await AssertProblemAsync(response, HttpStatusCode.Forbidden, "events[0].device_id");
        Assert.Equal(0, await QueryAsync(db => db.CallbackEvents.CountAsync()));
        // The refused delivery left no record of its event_id: the owner's delivery of it is not a duplicate.
        var owner = await CallbackAsync(key, running);
        Assert.Equal((1, 0), (owner.Accepted, owner.Duplicates));
    }

    [Fact]
    public async Task Group_AppliesEachCallbackAsAlone_ARefusedOneRecordsNothing_AndOneCommitServesTheRest()
    {
        var key = await FarmAsync("PC-01", 2);
        await FarmAsync("PC-02", 1);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId);
        var tasks = (await PullAsync(key, 2)).Tasks;
        var agents = await QueryAsync(db => db.Agents.AsNoTracking().ToDictionaryAsync(a => a.Name, a => a.Id));
        var running = Status(tasks[0], DeviceRunStatus.Running);
        var contested = Status(tasks[1], DeviceRunStatus.Running, eventId: "contested");
        IReadOnlyList<CallbackEvent>[] batches =
        [
            [running, Step(tasks[0], "shot", StepStatus.Running)],
            [Status(tasks[0], DeviceRunStatus.Running), contested], // another node's devices: refused whole
            [running, Step(tasks[0], "shot", StepStatus.Succeeded)], // the first callback's retry, and the step's end
            [contested, Status(tasks[1], DeviceRunStatus.Succeeded)], // the refused callback recorded nothing
            [Status(tasks[0], DeviceRunStatus.Running) with { RunId = Guid.NewGuid() }],
        ];
        Guid[] senders = [agents["PC-01"], agents["PC-02"], agents["PC-01"], agents["PC-01"], agents["PC-01"]];

        await using var scope = Server.Services.CreateAsyncScope();
        var handler = scope.ServiceProvider.GetRequiredService<Harness.Server.Features.Callbacks.CallbackHandler>();
        var answers = await handler.ApplyGroupAsync(senders.Zip(batches).ToList(), CancellationToken.None);

        CallbackResponse Ok(int i) => Assert.IsType<Microsoft.AspNetCore.Http.HttpResults.Ok<CallbackResponse>>(answers[i]).Value!;
        int? StatusOf(int i) => Assert.IsAssignableFrom<Microsoft.AspNetCore.Http.IStatusCodeHttpResult>(answers[i]).StatusCode;
        Assert.Equal((2, 0), (Ok(0).Accepted, Ok(0).Duplicates));
        Assert.Equal(403, StatusOf(1));
        Assert.Equal((1, 1), (Ok(2).Accepted, Ok(2).Duplicates));
        Assert.Equal((2, 0), (Ok(3).Accepted, Ok(3).Duplicates));
        Assert.Equal(400, StatusOf(4));
        Assert.Equal(5, await QueryAsync(db => db.CallbackEvents.CountAsync()));
        Assert.Equal(0, await QueryAsync(db => db.CallbackEvents.CountAsync(c => c.AgentId == agents["PC-02"])));
        var detail = await GetRunAsync(run.RunId);
        var device = detail.Devices.Single(d => d.DeviceId == tasks[0].DeviceId);
        Assert.Equal((DeviceRunStatus.Running, StepStatus.Succeeded), (device.Status, Assert.Single(device.Steps).Status));
        Assert.Equal(DeviceRunStatus.Succeeded, detail.Devices.Single(d => d.DeviceId == tasks[1].DeviceId).Status);
        Assert.Equal((1, 1), (detail.Run.Counts.Running, detail.Run.Counts.Succeeded));
    }

    [Fact]
    public async Task TimesReportedWithAnOffset_AreStoredAsTheSameInstants_AndASecondReportUpdatesTheStep()
    {
        var key = await FarmAsync("PC-01", 1);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId);
        var task = (await PullAsync(key, 1)).Tasks.Single();
        var started = new DateTimeOffset(2026, 11, 25, 18, 0, 0, TimeSpan.FromHours(9));
        var finished = started.AddSeconds(3).ToOffset(TimeSpan.FromHours(-5));

        await CallbackAsync(key,
            Status(task, DeviceRunStatus.Running) with { At = started },
            Step(task, "shot", StepStatus.Running) with { Step = new StepReport("shot", StepTypes.Screenshot, StepStatus.Running, StartedAt: started) });
        await CallbackAsync(key,
            Step(task, "shot", StepStatus.Succeeded) with { Step = new StepReport("shot", StepTypes.Screenshot, StepStatus.Succeeded, FinishedAt: finished, Output: "ok") },
            Status(task, DeviceRunStatus.Succeeded) with { At = finished });

        var device = Assert.Single((await GetRunAsync(run.RunId)).Devices);
        Assert.Equal((started.UtcDateTime, finished.UtcDateTime), (device.StartedAt?.UtcDateTime, device.FinishedAt?.UtcDateTime));
        var step = Assert.Single(device.Steps);
        Assert.Equal((StepStatus.Succeeded, "ok"), (step.Status, step.Output));
        Assert.Equal((started.UtcDateTime, finished.UtcDateTime, 3_000L), (step.StartedAt?.UtcDateTime, step.FinishedAt?.UtcDateTime, step.DurationMs));
    }

    [Fact]
    public async Task SingleBareEvent_IsAccepted()
    {
        var key = await FarmAsync("PC-01", 1);
        var workflow = await PushAsync(Capture);
        await RunAsync(workflow.WorkflowId);
        var task = (await PullAsync(key, 1)).Tasks.Single();
        using var agent = Server.Agent(key);

        var response = await agent.PostAsJsonAsync(Routes.NodesCallback, Status(task, DeviceRunStatus.Running), Json.CallbackEvent);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, (await response.Content.ReadFromJsonAsync(Json.CallbackResponse))!.Accepted);
    }

    [Fact]
    public async Task Artifact_IsStoredAtTheDocumentedPath_Once_AndWithinTheLimit()
    {
        var key = await FarmAsync("PC-01", 1);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId, subject: "build-42");
        var task = (await PullAsync(key, 1)).Tasks.Single();
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];
        using var agent = Server.Agent(key);
        var url = $"{Routes.NodesArtifacts}?event_id=up-1&run_id={run.RunId}&device_id={task.DeviceId}&step_id=shot&attempt=1&kind=screenshot&taken_at=2026-11-01T12:00:05.123Z";

        HttpContent Body(byte[] bytes) => new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } };
        var first = await agent.PostAsync(url, Body(png));
        var retry = await agent.PostAsync(url, Body(png));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        var artifact = (await first.Content.ReadFromJsonAsync(Json.ArtifactView))!;
        Assert.Equal($"build-42/PC-01/PC-01-D01/{run.RunId}/20261101T120005123Z.png", artifact.Path);
        Assert.Equal(png, await File.ReadAllBytesAsync(Path.Combine(Server.ArtifactsRoot, artifact.Path)));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(png)), artifact.Sha256);
        Assert.Single(Directory.GetFiles(Server.ArtifactsRoot, "*", SearchOption.AllDirectories));
        Assert.Equal(artifact.Id, Assert.Single((await GetRunAsync(run.RunId)).Devices[0].Artifacts).Id);
        using var admin = Server.Operator();
        Assert.Equal(png, await admin.GetByteArrayAsync(artifact.Url));

        // Expect: 100-continue lets the server refuse the body before the agent sends it.
        using var tooBigRequest = new HttpRequestMessage(HttpMethod.Post, url.Replace("up-1", "up-2")) { Content = Body(new byte[11 * 1024 * 1024]) };
        tooBigRequest.Headers.ExpectContinue = true;
        var tooBig = await agent.SendAsync(tooBigRequest);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        var noRun = await agent.PostAsync($"{Routes.NodesArtifacts}?event_id=x&device_id=d", Body(png));
        await AssertProblemAsync(noRun, HttpStatusCode.BadRequest, "run_id");
        Assert.Single(Directory.GetFiles(Server.ArtifactsRoot, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Scan_IsCarriedOutByTheAgent_AndNumbersNewDevices()
    {
        var key = await FarmAsync("PC-01", 2);
        using var admin = Server.Operator();
        var requested = await admin.PostAsJsonAsync(Routes.NodesScan, new ScanRequest("PC-01"), Json.ScanRequest);
        var scan = Assert.Single((await requested.Content.ReadFromJsonAsync(Json.IReadOnlyListScanJobView))!);
        Assert.Equal(ScanStatus.Pending, scan.Status);

        var order = Assert.Single((await PullAsync(key, 0)).Scans);
        Assert.Equal(scan.ScanId, order.ScanId);
        await CallbackAsync(key, new CallbackEvent("scan-1", CallbackTypes.ScanResult, ScanId: scan.ScanId,
            Devices: [new DeviceReport("PC-01-D01"), new DeviceReport("PC-01-D02"), new DeviceReport("PC-01-D03", Model: "Pixel 8")]));

        var done = (await admin.GetFromJsonAsync($"{Routes.NodesScan}/{scan.ScanId}", Json.ScanJobView))!;
        Assert.Equal(ScanStatus.Succeeded, done.Status);
        Assert.Equal(3, done.Result!.Found);
        Assert.Equal(["PC-01-D03"], done.Result.Added);
        Assert.Equal(3, done.Result.Devices.Single(d => d.DeviceId == "PC-01-D03").IndexNo);
        var job = Assert.Single((await admin.GetFromJsonAsync(Routes.Jobs, Json.PageJobView))!.Items);
        Assert.Equal((scan.ScanId, "scan", ScanStatus.Succeeded), (job.Id, job.Type, job.Status));
        var unknown = await admin.PostAsJsonAsync(Routes.NodesScan, new ScanRequest("PC-99"), Json.ScanRequest);
        await AssertProblemAsync(unknown, HttpStatusCode.BadRequest, "node_id");
    }

    [Fact]
    public async Task Scan_NoNodeCarriesOut_FailsAfterItsDeadline_AndSoDoesItsJob()
    {
        await FarmAsync("PC-01", 1);
        using var admin = Server.Operator();
        var requested = await admin.PostAsJsonAsync(Routes.NodesScan, new ScanRequest(), Json.ScanRequest);
        var scan = Assert.Single((await requested.Content.ReadFromJsonAsync(Json.IReadOnlyListScanJobView))!);

        Server.Time.Advance(TimeSpan.FromMinutes(11));
        await Server.Services.GetRequiredService<Harness.Server.Features.Dispatch.LeaseSweeper>().SweepAsync(CancellationToken.None);

        var failed = (await admin.GetFromJsonAsync($"{Routes.NodesScan}/{scan.ScanId}", Json.ScanJobView))!;
        Assert.Equal(ScanStatus.Failed, failed.Status);
        Assert.Contains("did not report", failed.LastErrorMessage, StringComparison.Ordinal);
        Assert.Equal(ScanStatus.Failed, Assert.Single((await admin.GetFromJsonAsync(Routes.Jobs, Json.PageJobView))!.Items).Status);
    }

    [Fact]
    public async Task Dashboard_ReportsKpisAndTodo()
    {
        var key = await FarmAsync("PC-01", 4, offline: [4]);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId);
        var tasks = (await PullAsync(key, 3)).Tasks;
        await FinishAsync(key, tasks[0]);
        await FinishAsync(key, tasks[1]);
        await FinishAsync(key, tasks[2], DeviceRunStatus.Failed, FailureReasons.PreflightFailed);
        using var admin = Server.Operator();

        var dashboard = (await admin.GetFromJsonAsync($"{Routes.Dashboard}?window=24h", Json.DashboardResponse))!;

        Assert.Equal((1, 1, 4, 2), (dashboard.Kpis.Runs, dashboard.Kpis.RunsFailed, dashboard.Kpis.DeviceTasks, dashboard.Kpis.DeviceTasksSucceeded));
        Assert.Equal(0.6667, dashboard.Kpis.DeviceSuccessRate);
        Assert.Equal(1, dashboard.Kpis.FailuresByReason[FailureReasons.PreflightFailed]);
        Assert.Equal(1, dashboard.Kpis.FailuresByReason[FailureReasons.Offline]);
        Assert.Equal(run.RunId, Assert.Single(dashboard.Todo.FailedRuns).RunId);
        Assert.NotNull(dashboard.Kpis.TaskDurationP95Ms);
        await AssertProblemAsync(await admin.GetAsync($"{Routes.Dashboard}?window=forever"), HttpStatusCode.BadRequest, "window");
    }
}

public sealed class CallbackTests_Sqlite() : CallbackTests(Providers.Sqlite);

public sealed class CallbackTests_Postgres() : CallbackTests(Providers.Postgres);
