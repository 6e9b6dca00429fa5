using System.Net;
using System.Net.Http.Json;
using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Nodes;
using Harness.Contracts.Runs;
using Harness.Contracts.Workflows;

namespace Harness.Server.Tests.Features.Runs;

/// <summary>Helpers for tests that run workflows: a farm of devices, workflows, runs, pulls and callbacks.</summary>
public abstract class RunTest(string provider) : ApiTest(provider)
{
    protected static readonly WorkflowDefinition Capture = new("capture",
    [
        new WorkflowStep("pre", StepTypes.Preflight),
        new WorkflowStep("shot", StepTypes.Screenshot),
        new WorkflowStep("up", StepTypes.Upload),
    ]);

    /// <summary>Registers <paramref name="node"/> with devices <c>{node}-D01</c>… and heartbeats them online; returns its key.</summary>
    protected async Task<string> FarmAsync(string node, int devices, params int[] offline)
    {
        var agent = await RegisterAgentAsync(node, ["devices"]);
        var reports = Enumerable.Range(1, devices)
            .Select(i => new DeviceReport($"{node}-D{i:00}", State: offline.Contains(i) ? DeviceState.Offline : DeviceState.Ready))
            .ToList();
        var response = await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: reports));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return agent.ApiKey;
    }

    protected async Task<WorkflowCreatedResponse> PushAsync(WorkflowDefinition workflow)
    {
        using var admin = Server.Operator();
        var response = await admin.PostAsJsonAsync(Routes.Workflows, workflow, Json.WorkflowDefinition);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync(Json.WorkflowCreatedResponse))!;
    }

    protected async Task<RunCreatedResponse> RunAsync(Guid workflowId, RunTarget? target = null, int? concurrency = null, IReadOnlyDictionary<string, string>? vars = null, string? subject = null)
    {
        using var admin = Server.Operator();
        var response = await admin.PostAsJsonAsync(Routes.Runs,
            new CreateRunRequest(workflowId, Target: target ?? new RunTarget(All: true), Concurrency: concurrency, Vars: vars, Subject: subject), Json.CreateRunRequest);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync(Json.RunCreatedResponse))!;
    }

    protected async Task<RunDetail> GetRunAsync(Guid runId)
    {
        using var admin = Server.Operator();
        return (await admin.GetFromJsonAsync($"{Routes.Runs}/{runId}", Json.RunDetail))!;
    }

    protected async Task<PullResponse> PullAsync(string key, int freeSlots, IReadOnlyList<TaskRef>? holds = null, int waitMs = 0)
    {
        using var agent = Server.Agent(key);
        var response = await agent.PostAsJsonAsync(Routes.NodesPull, new PullRequest(freeSlots, waitMs, holds), Json.PullRequest);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync(Json.PullResponse))!;
    }

    protected async Task<HttpResponseMessage> PostCallbackAsync(string key, params CallbackEvent[] events)
    {
        using var agent = Server.Agent(key);
        return await agent.PostAsJsonAsync(Routes.NodesCallback, new CallbackBatch(events), Json.CallbackBatch);
    }

    protected async Task<CallbackResponse> CallbackAsync(string key, params CallbackEvent[] events)
    {
        var response = await PostCallbackAsync(key, events);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync(Json.CallbackResponse))!;
    }

    protected static CallbackEvent Status(DeviceTask task, string status, string? reason = null, string? eventId = null) =>
        new(eventId ?? Guid.NewGuid().ToString(), CallbackTypes.DeviceStatus, RunId: task.RunId, DeviceId: task.DeviceId, Attempt: task.Attempt, Status: status, FailureReason: reason);

    protected static CallbackEvent Step(DeviceTask task, string stepId, string status, string? eventId = null) =>
        new(eventId ?? Guid.NewGuid().ToString(), CallbackTypes.Step, RunId: task.RunId, DeviceId: task.DeviceId, Attempt: task.Attempt,
            Step: new StepReport(stepId, StepTypes.Screenshot, status));

    /// <summary>Reports a task through preflight, running and <paramref name="final"/>.</summary>
    protected async Task FinishAsync(string key, DeviceTask task, string final = DeviceRunStatus.Succeeded, string? reason = null) =>
        await CallbackAsync(key, Status(task, DeviceRunStatus.Preflight), Status(task, DeviceRunStatus.Running), Status(task, final, reason));

    protected static TaskRef Ref(DeviceTask task) => new(task.RunId, task.DeviceId, task.Attempt);
}
