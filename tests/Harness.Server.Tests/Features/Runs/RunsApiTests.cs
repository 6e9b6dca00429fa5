using System.Net;
using System.Net.Http.Json;
using Harness.Contracts;
using Harness.Contracts.Runs;
using Harness.Contracts.Workflows;
using Harness.Testing;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Tests.Features.Runs;

public abstract class RunsApiTests(string provider) : RunTest(provider)
{
    [Fact]
    public async Task Create_OnAll_QueuesOnlineDevices_AndSkipsOfflineAtOnce()
    {
        await FarmAsync("PC-01", 5, offline: [2, 4]);
        var workflow = await PushAsync(Capture);

        var run = await RunAsync(workflow.WorkflowId);

        Assert.Equal((5, 3, 2), (run.Counts.Total, run.Counts.Queued, run.Counts.SkippedOffline));
        Assert.Equal(1, run.Version);
        var detail = await GetRunAsync(run.RunId);
        Assert.Equal(RunStatus.Queued, detail.Run.Status);
        Assert.Equal([1, 2, 3, 4, 5], detail.Devices.Select(d => d.IndexNo ?? 0));
        var skipped = detail.Devices.Where(d => d.Status == DeviceRunStatus.SkippedOffline).ToList();
        Assert.Equal(["PC-01-D02", "PC-01-D04"], skipped.Select(d => d.DeviceId));
        Assert.All(skipped, d => Assert.Equal(FailureReasons.Offline, d.FailureReason));
    }

    [Fact]
    public async Task QuarantinedDevice_IsShownAsSuch_AndSkipped_UntilItsProbesPassAgain()
    {
        var key = await FarmAsync("PC-01", 2);
        await HeartbeatAsync(key, new Contracts.Nodes.HeartbeatRequest(Devices: [new("PC-01-D01"), new("PC-01-D02", Quarantined: true)]));
        var workflow = await PushAsync(Capture);

        var run = await GetRunAsync((await RunAsync(workflow.WorkflowId)).RunId);

        var skipped = run.Devices.Single(d => d.DeviceId == "PC-01-D02");
        Assert.Equal((DeviceRunStatus.SkippedOffline, FailureReasons.Quarantined), (skipped.Status, skipped.FailureReason));
        using var admin = Server.Operator();
        var device = (await admin.GetFromJsonAsync($"{Routes.Devices}/PC-01-D02", Json.DeviceView))!;
        Assert.NotNull(device.QuarantinedAt);
        await HeartbeatAsync(key, new Contracts.Nodes.HeartbeatRequest(Devices: [new("PC-01-D01"), new("PC-01-D02", Quarantined: false)]));
        Assert.Null((await admin.GetFromJsonAsync($"{Routes.Devices}/PC-01-D02", Json.DeviceView))!.QuarantinedAt);
        Assert.Equal(DeviceRunStatus.Queued, (await GetRunAsync((await RunAsync(workflow.WorkflowId)).RunId)).Devices.Single(d => d.DeviceId == "PC-01-D02").Status);
    }

    [Fact]
    public async Task Create_EveryTargetKind_SelectsTheNamedDevices()
    {
        await FarmAsync("PC-01", 3);
        await FarmAsync("PC-02", 3);
        var workflow = await PushAsync(Capture);

        async Task<IEnumerable<string>> Devices(RunTarget target) =>
            (await GetRunAsync((await RunAsync(workflow.WorkflowId, target)).RunId)).Devices.Select(d => d.DeviceId);

        Assert.Equal(["PC-02-D01", "PC-02-D02", "PC-02-D03"], await Devices(new RunTarget(NodeIds: ["PC-02"])));
        Assert.Equal(["PC-01-D03", "PC-02-D01"], await Devices(new RunTarget(DeviceIds: ["PC-02-D01", "PC-01-D03"])));
        Assert.Equal(["PC-01-D02", "PC-01-D03", "PC-02-D01"], await Devices(new RunTarget(IndexRange: "2-4")));
        Assert.Equal(6, (await Devices(new RunTarget(All: true))).Count());
        Assert.Equal(3, (await Devices(new RunTarget(Labels: new Dictionary<string, string> { ["node_id"] = "PC-01" }))).Count());
    }

    [Fact]
    public async Task Create_BadTargetsAndReferences_Are400NamingTheField_AndStoreNothing()
    {
        await FarmAsync("PC-01", 2);
        var workflow = await PushAsync(Capture);
        using var admin = Server.Operator();

        async Task Expect(CreateRunRequest request, string field) =>
            await AssertProblemAsync(await admin.PostAsJsonAsync(Routes.Runs, request, Json.CreateRunRequest), HttpStatusCode.BadRequest, field);

        await Expect(new CreateRunRequest(workflow.WorkflowId), "target");
        await Expect(new CreateRunRequest(workflow.WorkflowId, Target: new RunTarget(All: true, NodeIds: ["PC-01"])), "target");
        await Expect(new CreateRunRequest(workflow.WorkflowId, Target: new RunTarget(IndexRange: "9-3")), "target.index_range");
        await Expect(new CreateRunRequest(workflow.WorkflowId, Target: new RunTarget(NodeIds: ["PC-01", "PC-99"])), "target.node_ids[1]");
        await Expect(new CreateRunRequest(workflow.WorkflowId, Target: new RunTarget(DeviceIds: ["nope"])), "target.device_ids[0]");
        await Expect(new CreateRunRequest(workflow.WorkflowId, Target: new RunTarget(IndexRange: "50-60")), "target");
        await Expect(new CreateRunRequest(Guid.NewGuid(), Target: new RunTarget(All: true)), "workflow_id");
        await Expect(new CreateRunRequest(workflow.WorkflowId, Version: 7, Target: new RunTarget(All: true)), "version");
        await Expect(new CreateRunRequest(Target: new RunTarget(All: true)), "workflow_id");
        await Expect(new CreateRunRequest(workflow.WorkflowId, Target: new RunTarget(All: true), Concurrency: 0), "concurrency");
        await Expect(new CreateRunRequest(workflow.WorkflowId, Target: new RunTarget(All: true), Subject: "../etc"), "subject");
        var bad = await admin.PostAsync(Routes.Runs, RawJson("""{"workflow_id":"not-a-guid","target":{"all":true}}"""));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        Assert.Equal(0, await QueryAsync(db => db.Runs.CountAsync()));
        Assert.Equal(0, await QueryAsync(db => db.RunDeviceStates.CountAsync()));
    }

    [Fact]
    public async Task Create_ResolvesVariablesPerDevice_AndAMissingVariableIs400()
    {
        await FarmAsync("PC-01", 2);
        var workflow = await PushAsync(new WorkflowDefinition("typing",
        [
            new WorkflowStep("user", StepTypes.InputText, new Dictionary<string, System.Text.Json.JsonElement>
            {
                ["text"] = System.Text.Json.JsonSerializer.SerializeToElement("{{vars.user}}@{{device.device_id}}#{{device.index_no}}"),
            }),
        ]));
        using var admin = Server.Operator();
        var missing = await admin.PostAsJsonAsync(Routes.Runs, new CreateRunRequest(workflow.WorkflowId, Target: new RunTarget(All: true)), Json.CreateRunRequest);
        await AssertProblemAsync(missing, HttpStatusCode.BadRequest, "vars.user");

        var run = await RunAsync(workflow.WorkflowId, vars: new Dictionary<string, string> { ["user"] = "alice" });
        var compiled = await QueryAsync(db => db.RunDeviceStates.Where(s => s.RunId == run.RunId).OrderBy(s => s.DeviceId).Select(s => s.CompiledWorkflow!).ToListAsync());
        Assert.Contains("alice@PC-01-D01#1", compiled[0]);
        Assert.Contains("alice@PC-01-D02#2", compiled[1]);
    }

    [Fact]
    public async Task List_PagesNewestFirst_AndFiltersByStatus()
    {
        await FarmAsync("PC-01", 1);
        var workflow = await PushAsync(Capture);
        var runs = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            runs.Add((await RunAsync(workflow.WorkflowId)).RunId);
            Server.Time.Advance(TimeSpan.FromSeconds(1));
        }
        using var admin = Server.Operator();
        var first = (await admin.GetFromJsonAsync($"{Routes.Runs}?limit=2", Json.PageRunSummary))!;
        var second = (await admin.GetFromJsonAsync($"{Routes.Runs}?limit=2&cursor={first.NextCursor}", Json.PageRunSummary))!;
        Assert.Equal([runs[2], runs[1], runs[0]], first.Items.Concat(second.Items).Select(r => r.RunId));
        Assert.Null(second.NextCursor);
        Assert.Equal("capture", first.Items[0].WorkflowName);
        var queued = (await admin.GetFromJsonAsync($"{Routes.Runs}?status=queued", Json.PageRunSummary))!;
        Assert.Equal(3, queued.Items.Count);
        await AssertProblemAsync(await admin.GetAsync($"{Routes.Runs}?status=bogus"), HttpStatusCode.BadRequest, "status");
        Assert.Equal(3, (await admin.GetFromJsonAsync($"{Routes.Runs}?workflow_id={workflow.WorkflowId}", Json.PageRunSummary))!.Items.Count);
        Assert.Empty((await admin.GetFromJsonAsync($"{Routes.Runs}?workflow_id={Guid.NewGuid()}", Json.PageRunSummary))!.Items);
        var badId = await admin.GetAsync($"{Routes.Runs}?workflow_id=nope");
        Assert.Equal(HttpStatusCode.BadRequest, badId.StatusCode);
        Assert.Contains("workflow_id", await badId.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Cancel_EndsEveryOpenDevice_AndTheAgentIsToldToStop()
    {
        var key = await FarmAsync("PC-01", 3);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId);
        var pulled = await PullAsync(key, 1);
        var task = Assert.Single(pulled.Tasks);
        await CallbackAsync(key, Status(task, DeviceRunStatus.Running));

        using var admin = Server.Operator();
        var cancelled = await admin.PostAsync($"{Routes.Runs}/{run.RunId}/cancel", null);

        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        var detail = await GetRunAsync(run.RunId);
        Assert.Equal(RunStatus.Cancelled, detail.Run.Status);
        Assert.All(detail.Devices, d => Assert.Equal(DeviceRunStatus.Cancelled, d.Status));
        var next = await PullAsync(key, 5, [Ref(task)]);
        Assert.Empty(next.Tasks);
        Assert.Equal([Ref(task)], next.Cancel);
        var late = await CallbackAsync(key, Status(task, DeviceRunStatus.Succeeded));
        Assert.Equal(1, late.Ignored);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"{Routes.Runs}/{run.RunId}/cancel", null)).StatusCode);
    }
}

public sealed class RunsApiTests_Sqlite() : RunsApiTests(Providers.Sqlite);

public sealed class RunsApiTests_Postgres() : RunsApiTests(Providers.Postgres);
