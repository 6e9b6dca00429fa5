using System.Net;
using System.Net.Http.Json;
using Harness.Contracts;
using Harness.Contracts.Agents;
using Harness.Contracts.Workspaces;
using Harness.Server.Features.Workspaces;
using Harness.Testing;
using Harness.Testing.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Harness.Server.Tests.Features.Workspaces;

/// <summary>The whole life of a workspace against a real agent serving the Runtime Agent API over the fake runtime.</summary>
public abstract class WorkspaceLifecycleTests(string provider) : WorkspaceTest(provider)
{
    private WorkspaceAgent? _agent;

    public override async Task DisposeAsync()
    {
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }
        await base.DisposeAsync();
    }

    private async Task<(AgentCredentialResponse Credential, WorkspaceAgent Agent)> StartAgentAsync(string name)
    {
        var credential = await RegisterAgentAsync(name);
        _agent = await WorkspaceAgent.StartAsync(Server.BaseAddress, name, credential.ApiKey);
        await _agent.WaitForRuntimeKeyAsync();
        return (credential, _agent);
    }

    private async Task<WorkspaceView> PostAsync(string path, HttpContent? body = null)
    {
        using var admin = Server.Operator();
        var response = await admin.PostAsync($"{Routes.Workspaces}/{path}", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST {path}: {(int)response.StatusCode} {text}");
        return System.Text.Json.JsonSerializer.Deserialize(text, Json.WorkspaceView)!;
    }

    [Fact]
    public async Task Create_Stop_Start_Archive_Restore_Delete_KeepsTheFiles()
    {
        var (credential, _) = await StartAgentAsync("fake-1");

        var created = await CreatedAsync(new CreateWorkspaceRequest("alice", "harness-test/http:1", Env: new Dictionary<string, string> { ["MODE"] = "dev" }));

        Assert.True(created.Status == WorkspaceStatus.Running, created.LastErrorMessage);
        Assert.Equal("fake-1", created.AgentName);
        Assert.NotNull(created.Upstream);
        using var http = new HttpClient();
        Assert.True((await http.PutAsync(new Uri(new Uri(created.Upstream!), "notes.txt"), new StringContent("hello"))).IsSuccessStatusCode);

        var stopped = await PostAsync("alice/stop");
        Assert.Equal(WorkspaceStatus.Stopped, stopped.Status);
        Assert.Null(stopped.Upstream);

        var started = await PostAsync($"{created.Id}/start");
        Assert.Equal(WorkspaceStatus.Running, started.Status);
        Assert.Equal("hello", await http.GetStringAsync(new Uri(new Uri(started.Upstream!), "notes.txt")));

        var archived = await PostAsync("alice/archive");
        Assert.True(archived.Status == WorkspaceStatus.Archived, archived.LastErrorMessage);
        Assert.NotNull(archived.ArchiveId);
        var archive = await QueryAsync(db => db.WorkspaceArchives.AsNoTracking().SingleAsync(a => a.Id == archived.ArchiveId));
        Assert.True(archive.Bytes > 0);
        Assert.Equal(64, archive.Sha256!.Length);
        Assert.True(File.Exists(Path.Combine(Server.ArtifactsRoot, WorkspaceArchives.StoragePath(created.Id, archive.Id))));
        Assert.Equal(WorkspaceStatus.Archived, (await GetAsync("alice")).Status);

        var restored = await PostAsync("alice/restore", JsonContent.Create(new RestoreWorkspaceRequest(Start: true), Json.RestoreWorkspaceRequest));
        Assert.True(restored.Status == WorkspaceStatus.Running, restored.LastErrorMessage);
        Assert.Equal("hello", await http.GetStringAsync(new Uri(new Uri(restored.Upstream!), "notes.txt")));

        using var admin = Server.Operator();
        var jobs = (await admin.GetFromJsonAsync($"{Routes.Jobs}?limit=10", Json.PageJobView))!.Items;
        // Both jobs share the fake clock's instant, so their order is the ids'.
        Assert.Equal(["archive", "restore"], jobs.Select(j => j.Type).Order());
        Assert.All(jobs, j => Assert.Equal("succeeded", j.Status));
        Assert.All(jobs, j => Assert.Equal(created.Id.ToString("D"), j.WorkspaceId));
        Assert.All(jobs, j => Assert.Equal(credential.Agent.Id, j.AgentId));

        var deleted = await admin.DeleteAsync($"{Routes.Workspaces}/alice");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{Routes.Workspaces}/alice")).StatusCode);
        Assert.Equal(0, await QueryAsync(db => db.WorkspaceArchives.CountAsync()));
    }

    [Fact]
    public async Task Restore_WhenItsAgentIsGone_PlacesItOnAnother()
    {
        var (first, _) = await StartAgentAsync("fake-1");
        var created = await CreatedAsync(new CreateWorkspaceRequest("mover", "harness-test/http:1"));
        using var http = new HttpClient();
        Assert.True((await http.PutAsync(new Uri(new Uri(created.Upstream!), "kept.txt"), new StringContent("moved"))).IsSuccessStatusCode);
        var archived = await PostAsync("mover/archive");
        Assert.True(archived.Status == WorkspaceStatus.Archived, archived.LastErrorMessage);
        await _agent!.DisposeAsync();
        _agent = null;
        using (var admin = Server.Operator())
        {
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{Routes.Agents}/{first.Agent.Id}")).StatusCode);
        }
        await StartAgentAsync("fake-2");

        var restored = await PostAsync("mover/restore");

        Assert.True(restored.Status == WorkspaceStatus.Stopped, restored.LastErrorMessage);
        Assert.Equal("fake-2", restored.AgentName);
        var started = await PostAsync("mover/start");
        Assert.Equal("moved", await http.GetStringAsync(new Uri(new Uri(started.Upstream!), "kept.txt")));
    }

    [Fact]
    public async Task HealthChecker_AgentDownThenBack_ErrorsThenSettlesItsWorkspaces()
    {
        var (credential, agent) = await StartAgentAsync("fake-1");
        var workspace = await CreatedAsync(new CreateWorkspaceRequest("watched", "harness-test/http:1"));
        Assert.Equal(WorkspaceStatus.Running, workspace.Status);
        var checker = Server.Services.GetRequiredService<AgentHealthChecker>();
        Assert.Equal(1, await checker.CheckAsync(CancellationToken.None));

        await agent.StopAsync();
        foreach (var wait in new[] { 30, 60, 120 })
        {
            Server.Time.Advance(TimeSpan.FromSeconds(wait));
            await checker.CheckAsync(CancellationToken.None);
        }

        var down = await QueryAsync(db => db.Agents.AsNoTracking().SingleAsync(a => a.Id == credential.Agent.Id));
        Assert.Equal(AgentStatuses.Error, down.Status);
        var failed = await GetAsync("watched");
        Assert.Equal(WorkspaceStatus.Error, failed.Status);
        Assert.StartsWith("agent fake-1 unreachable:", failed.LastErrorMessage);

        await agent.StartAsync();
        // A restarted agent accepts the server only once a heartbeat has given it its runtime key again.
        await agent.WaitForRuntimeKeyAsync();
        Server.Time.Advance(TimeSpan.FromSeconds(240));
        await checker.CheckAsync(CancellationToken.None);

        var back = await QueryAsync(db => db.Agents.AsNoTracking().SingleAsync(a => a.Id == credential.Agent.Id));
        Assert.Equal(AgentStatuses.Active, back.Status);
        Assert.Equal(0, back.ConsecutiveHealthFailures);
        Assert.Equal(Server.Time.GetUtcNow(), back.LastHealthAt);
        var settled = await GetAsync("watched");
        Assert.Contains(settled.Status, new[] { WorkspaceStatus.Running, WorkspaceStatus.Stopped });
        Assert.False(await QueryAsync(db => db.Workspaces.Where(w => w.Name == "watched").Select(w => w.ErrorFromHealthCheck).SingleAsync()));
    }

    [Fact]
    public async Task Reconciler_InstanceGone_MarksRunningWorkspaceStopped()
    {
        var (_, agent) = await StartAgentAsync("fake-1");
        var workspace = await CreatedAsync(new CreateWorkspaceRequest("drifter", "harness-test/http:1"));
        var client = await AgentClientAsync("fake-1");
        Assert.True(await client.DeleteInstanceAsync(workspace.Id.ToString("D"), CancellationToken.None));
        Server.Time.Advance(TimeSpan.FromSeconds(1));

        await Server.Services.GetRequiredService<WorkspaceReconciler>().ReconcileAsync(CancellationToken.None);

        var after = await GetAsync("drifter");
        Assert.Equal(WorkspaceStatus.Stopped, after.Status);
        Assert.Contains("disappeared", after.LastErrorMessage);
    }

    [Fact]
    public async Task Reconciler_OverdueStarting_SettlesFromTheAgent()
    {
        await StartAgentAsync("fake-1");
        var workspace = await CreatedAsync(new CreateWorkspaceRequest("stuck", "harness-test/http:1"));
        // As if the server died between asking the agent and recording the answer.
        await QueryAsync(db => db.Workspaces.Where(w => w.Id == workspace.Id).ExecuteUpdateAsync(s => s
            .SetProperty(w => w.Status, WorkspaceStatus.Starting)
            .SetProperty(w => w.StateDeadlineAt, Server.Time.GetUtcNow().AddSeconds(10))));
        Server.Time.Advance(TimeSpan.FromSeconds(11));

        await Server.Services.GetRequiredService<WorkspaceReconciler>().ReconcileAsync(CancellationToken.None);

        Assert.Equal(WorkspaceStatus.Running, (await GetAsync("stuck")).Status);
    }

    private async Task<Harness.Client.RuntimeAgentClient> AgentClientAsync(string name)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Harness.Server.Data.HarnessDbContext>();
        var agent = await db.Agents.SingleAsync(a => a.Name == name);
        return (await scope.ServiceProvider.GetRequiredService<RuntimeAgents>().ForAsync(db, agent, CancellationToken.None))!;
    }
}

public sealed class WorkspaceLifecycleTests_Sqlite() : WorkspaceLifecycleTests(Providers.Sqlite);

public sealed class WorkspaceLifecycleTests_Postgres() : WorkspaceLifecycleTests(Providers.Postgres);
