using System.Net;
using Harness.Cli.Tests.Operator;
using Harness.Client;
using Harness.Contracts;
using Harness.Contracts.Dashboard;
using Harness.Contracts.Runs;
using Harness.Contracts.Workflows;

namespace Harness.Cli.Tests.Client;

public sealed class HarnessApiClientTests
{
    private readonly StubApi _api = new();
    private readonly HarnessApiClient _client;

    public HarnessApiClientTests()
    {
        _client = new HarnessApiClient(new HttpClient(_api) { BaseAddress = new Uri("http://harness.test") }, "hop_token");
    }

    [Fact]
    public async Task ListRuns_BuildsTheQuery_OmittingWhatIsNotSet()
    {
        _api.OnJson("GET", Routes.Runs, new Page<RunSummary>([], null), StubApi.Wire.PageRunSummary);
        var workflow = Guid.NewGuid();

        await _client.ListRunsAsync(status: "running", workflowId: workflow, limit: 10, cursor: "a b");
        await _client.ListRunsAsync();

        Assert.Equal($"/api/runs?status=running&workflow_id={workflow}&limit=10&cursor=a%20b", _api.Requests[0].PathAndQuery);
        Assert.Equal("/api/runs", _api.Requests[1].PathAndQuery);
        Assert.All(_api.Requests, r => Assert.Equal("Bearer hop_token", r.Authorization));
    }

    [Fact]
    public async Task ListWorkflows_EscapesTheName()
    {
        _api.OnJson<IReadOnlyList<WorkflowView>>("GET", Routes.Workflows, [], StubApi.Wire.IReadOnlyListWorkflowView);

        await _client.ListWorkflowsAsync("a&b c");

        Assert.Equal("/api/workflows?name=a%26b%20c", _api.Requests[0].PathAndQuery);
    }

    [Fact]
    public async Task ValidationProblem_ThrowsWithEveryFieldError()
    {
        _api.OnProblem("POST", Routes.Workflows, HttpStatusCode.BadRequest, "The request is invalid", "x",
            """{"steps[3].params.package":["required"],"steps[0].type":["unknown step type 'tapp'","did you mean 'tap'?"]}""");

        var e = await Assert.ThrowsAsync<HarnessApiException>(() => _client.PushWorkflowJsonAsync("{}"));

        Assert.Equal(HttpStatusCode.BadRequest, e.Status);
        Assert.Equal("The request is invalid", e.Title);
        Assert.Equal(["steps[3].params.package: required", "steps[0].type: unknown step type 'tapp'", "steps[0].type: did you mean 'tap'?"], e.Errors);
    }

    [Fact]
    public async Task NonJsonError_KeepsTheStatus()
    {
        _api.On("GET", Routes.Devices, _ => new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("<html>bad gateway</html>") });

        var e = await Assert.ThrowsAsync<HarnessApiException>(() => _client.ListDevicesAsync());

        Assert.Equal(HttpStatusCode.BadGateway, e.Status);
        Assert.Empty(e.Errors);
    }

    [Fact]
    public async Task CreateRun_PostsSnakeCase()
    {
        _api.OnJson("POST", Routes.Runs, new RunCreatedResponse(RunData.RunId, null, null, null, null, "queued", RunData.Counts([])), StubApi.Wire.RunCreatedResponse, HttpStatusCode.Created);

        var created = await _client.CreateRunAsync(new CreateRunRequest(WorkflowId: RunData.WorkflowId, Target: new RunTarget(IndexRange: "1-5"), Vars: new Dictionary<string, string> { ["user"] = "bob" }));

        Assert.Equal(RunData.RunId, created.RunId);
        Assert.Equal($$$"""{"workflow_id":"{{{RunData.WorkflowId}}}","target":{"index_range":"1-5"},"vars":{"user":"bob"}}""", _api.Requests[0].Body);
    }

    [Fact]
    public async Task DeleteAndDashboard_UseTheirRoutes()
    {
        var id = Guid.NewGuid();
        _api.On("DELETE", $"{Routes.Playbooks}/{id}", _ => new HttpResponseMessage(HttpStatusCode.NoContent));
        _api.OnJson("GET", Routes.Dashboard,
            new DashboardResponse("24h", CliRunner.Start, new DashboardKpis(0, 0, 0, 0, 0, 0, 0, null, 0, 0, null, new Dictionary<string, int>(), null, null), new DashboardTodo([], [], [], [])),
            StubApi.Wire.DashboardResponse);

        await _client.DeletePlaybookAsync(id);
        var dashboard = await _client.GetDashboardAsync("7d");

        Assert.Equal("24h", dashboard.Window);
        Assert.Equal(["DELETE " + $"{Routes.Playbooks}/{id}", "GET /api/dashboard?window=7d"], _api.Requests.Select(r => $"{r.Method} {r.PathAndQuery}"));
    }
}
