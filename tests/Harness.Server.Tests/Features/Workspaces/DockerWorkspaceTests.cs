using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Agents;
using Harness.Contracts.Workspaces;
using Harness.Runtimes;
using Harness.Server.Features.Workspaces;
using Harness.Testing;
using Harness.Testing.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Harness.Server.Tests.Features.Workspaces;

/// <summary>
/// A workspace on a real Docker engine, end to end: server (PostgreSQL) → Runtime Agent API → Docker runtime →
/// a container of the locally imported image serving HTTP, reached through <c>/w/{workspace}/</c>.
/// </summary>
public sealed class DockerWorkspaceTests() : WorkspaceTest(Providers.Postgres)
{
    private readonly DockerEngine _engine = new();
    private WorkspaceAgent? _agent;

    public override async Task DisposeAsync()
    {
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }
        await base.DisposeAsync();
    }

    private async Task<(AgentCredentialResponse Credential, WorkspaceAgent Agent)> StartDockerAgentAsync()
    {
        await _engine.InitializeAsync();
        var credential = await RegisterWorkspaceAgentAsync("docker-1", endpoint: null, runtime: RuntimeNames.Docker);
        _agent = await WorkspaceAgent.StartAsync(Server.BaseAddress, "docker-1", credential.ApiKey, new Dictionary<string, string?>
        {
            ["Agent:Workspaces:Runtime"] = "docker",
            ["Agent:Workspaces:Docker:Endpoint"] = _engine.Endpoint,
            // This machine's engine has no bridge: instances share the host's loopback.
            ["Agent:Workspaces:Docker:NetworkMode"] = "Host",
            ["Agent:Workspaces:Docker:AgentName"] = $"e2e-{Guid.NewGuid():N}"[..16],
        });
        await _agent.WaitForRuntimeKeyAsync();
        await WaitAsync(async () => (await AgentsAsync()).Single(a => a.Name == "docker-1").Endpoint is not null);
        return (credential, _agent);
    }

    [Fact]
    public async Task Workspace_ServesThroughTheProxy_SurvivesArchiveAndRestore_AndItsAgentsDeathAndReturn()
    {
        var (credential, agent) = await StartDockerAgentAsync();
        using var admin = Server.Operator();

        // Created: a volume and a container of the imported image, serving the volume over HTTP.
        var created = await CreatedAsync(new CreateWorkspaceRequest("site", DockerEngine.HttpImage, Cpu: 0.5, MemoryMb: 64));
        Assert.True(created.Status == WorkspaceStatus.Running, created.LastErrorMessage);
        var id = created.Id.ToString("D");
        var container = WorkspaceIds.InstanceName(id);
        await ExecAsync(container, "mkdir -p /workspace/notes && echo '<h1>site</h1>' > /workspace/index.html && echo kept > /workspace/notes/a.txt");
        var inspected = await _engine.InspectContainerAsync(container);
        Assert.Equal(64L * 1024 * 1024, inspected.GetProperty("HostConfig").GetProperty("Memory").GetInt64());
        Assert.False(inspected.GetProperty("HostConfig").GetProperty("Privileged").GetBoolean());

        // Reached through /w/{workspace}/.
        Assert.Equal("<h1>site</h1>\n", await RetryGetAsync(admin, "/w/site/index.html"));

        // Archived: the files go to the server, the container and the volume go away.
        var archived = await PostAsync(admin, "site/archive");
        Assert.True(archived.Status == WorkspaceStatus.Archived, archived.LastErrorMessage);
        Assert.Equal(HttpStatusCode.NotFound, await EngineStatusAsync($"/containers/{container}/json"));
        Assert.Equal(HttpStatusCode.NotFound, await EngineStatusAsync($"/volumes/{WorkspaceIds.VolumeName(id)}"));
        Assert.Equal(HttpStatusCode.Conflict, (await admin.GetAsync("/w/site/index.html")).StatusCode);

        // Restored and started: every file back.
        var restored = await PostAsync(admin, "site/restore", JsonContent.Create(new RestoreWorkspaceRequest(Start: true), Json.RestoreWorkspaceRequest));
        Assert.True(restored.Status == WorkspaceStatus.Running, restored.LastErrorMessage);
        Assert.Equal("kept\n", await RetryGetAsync(admin, "/w/site/notes/a.txt"));
        Assert.Equal("<h1>site</h1>\n", await RetryGetAsync(admin, "/w/site/index.html"));

        // The agent dies: health checks fail, the agent goes to error and its workspace to ERROR.
        var checker = Server.Services.GetRequiredService<AgentHealthChecker>();
        await agent.StopAsync();
        foreach (var wait in new[] { 30, 60, 120 })
        {
            Server.Time.Advance(TimeSpan.FromSeconds(wait));
            await checker.CheckAsync(CancellationToken.None);
        }
        Assert.Equal(AgentStatuses.Error, (await QueryAsync(db => db.Agents.AsNoTracking().SingleAsync(a => a.Id == credential.Agent.Id))).Status);
        Assert.Equal(WorkspaceStatus.Error, (await GetAsync("site")).Status);

        // The agent comes back while its container still runs: it finds the container by its labels,
        // the health check recovers the agent and settles the workspace, and the proxy works again.
        await agent.StartAsync();
        await agent.WaitForRuntimeKeyAsync();
        Server.Time.Advance(TimeSpan.FromSeconds(240));
        await checker.CheckAsync(CancellationToken.None);
        Assert.Equal(AgentStatuses.Active, (await QueryAsync(db => db.Agents.AsNoTracking().SingleAsync(a => a.Id == credential.Agent.Id))).Status);
        var settled = await GetAsync("site");
        Assert.True(settled.Status == WorkspaceStatus.Running, $"{settled.Status}: {settled.LastErrorMessage}");
        Assert.Equal("kept\n", await RetryGetAsync(admin, "/w/site/notes/a.txt"));

        // Deleted: nothing of it is left on the engine.
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{Routes.Workspaces}/site")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, await EngineStatusAsync($"/containers/{container}/json"));
        Assert.Equal(HttpStatusCode.NotFound, await EngineStatusAsync($"/volumes/{WorkspaceIds.VolumeName(id)}"));
    }

    private async Task<WorkspaceView> PostAsync(HttpClient admin, string path, HttpContent? body = null)
    {
        var response = await admin.PostAsync($"{Routes.Workspaces}/{path}", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST {path}: {(int)response.StatusCode} {text}");
        return JsonSerializer.Deserialize(text, Json.WorkspaceView)!;
    }

    /// <summary>busybox httpd may take a moment after the container starts before it accepts.</summary>
    private static async Task<string> RetryGetAsync(HttpClient client, string path)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var response = await client.GetAsync(path);
            if (response.IsSuccessStatusCode || attempt == 50)
            {
                Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                return await response.Content.ReadAsStringAsync();
            }
            await Task.Delay(100);
        }
    }

    private async Task<HttpStatusCode> EngineStatusAsync(string path)
    {
        using var http = DockerEngine.CreateHttpClient(_engine.Endpoint);
        using var response = await http.GetAsync(path);
        return response.StatusCode;
    }

    /// <summary>Runs a shell command in the workspace's container, as a user of the workspace would.</summary>
    private async Task ExecAsync(string container, string script)
    {
        using var http = DockerEngine.CreateHttpClient(_engine.Endpoint);
        var created = await http.PostAsJsonAsync($"/containers/{container}/exec",
            new Dictionary<string, object> { ["Cmd"] = new[] { "sh", "-c", script }, ["AttachStdout"] = true, ["AttachStderr"] = true });
        created.EnsureSuccessStatusCode();
        var execId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Id").GetString();
        (await http.PostAsJsonAsync($"/exec/{execId}/start", new Dictionary<string, object> { ["Detach"] = false, ["Tty"] = false })).EnsureSuccessStatusCode();
        var inspect = await http.GetFromJsonAsync<JsonElement>($"/exec/{execId}/json");
        Assert.Equal(0, inspect.GetProperty("ExitCode").GetInt32());
    }

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(50);
        }
    }
}
