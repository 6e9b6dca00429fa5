using System.Net;
using System.Net.Http.Json;
using Harness.Contracts;
using Harness.Contracts.Agents;
using Harness.Contracts.Workspaces;
using Harness.Testing;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Tests.Features.Workspaces;

/// <summary>
/// Placement and validation. The agents here do not answer (nothing listens at their endpoint), so each
/// placed workspace ends in error, which is enough to see where it was placed and what it counts against.
/// </summary>
public abstract class WorkspacePlacementTests(string provider) : WorkspaceTest(provider)
{
    [Fact]
    public async Task Create_PlacesOnLeastLoadedMatchingAgent_AndCountsItsLoad()
    {
        await RegisterWorkspaceAgentAsync("docker-a", capacity: 2, region: "eu");
        await RegisterWorkspaceAgentAsync("docker-b", capacity: 2, region: "eu");
        await RegisterWorkspaceAgentAsync("docker-us", capacity: 5, region: "us");

        var first = await CreatedAsync(new CreateWorkspaceRequest("ws-1", "ghcr.io/acme/dev:1", Region: "eu"));
        var second = await CreatedAsync(new CreateWorkspaceRequest("ws-2", "ghcr.io/acme/dev:1", Region: "eu"));

        Assert.Equal(new[] { "docker-a", "docker-b" }, new[] { first.AgentName, second.AgentName }.Order());
        Assert.Equal(WorkspaceStatus.Error, first.Status);
        Assert.Contains("agent 'docker-", first.LastErrorMessage);
    }

    [Fact]
    public async Task Create_HonoursLabels()
    {
        await RegisterWorkspaceAgentAsync("plain", capacity: 5);
        await RegisterWorkspaceAgentAsync("gpu-1", capacity: 1, labels: new Dictionary<string, string> { ["gpu"] = "a100", ["zone"] = "b" });

        var placed = await CreatedAsync(new CreateWorkspaceRequest("train", "ghcr.io/acme/train:2", Labels: new Dictionary<string, string> { ["gpu"] = "a100" }));

        Assert.Equal("gpu-1", placed.AgentName);
        var full = await CreateAsync(new CreateWorkspaceRequest("train-2", "ghcr.io/acme/train:2", Labels: new Dictionary<string, string> { ["gpu"] = "a100" }));
        var problem = await AssertProblemAsync(full, HttpStatusCode.Conflict, "placement");
        Assert.Contains("no agent has capacity for region=any labels=gpu=a100", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Create_FullFleet_Returns409_AndStoresNothing()
    {
        await RegisterWorkspaceAgentAsync("only", capacity: 1, region: "eu");
        await CreatedAsync(new CreateWorkspaceRequest("one", "alpine:3"));

        var response = await CreateAsync(new CreateWorkspaceRequest("two", "alpine:3", Region: "eu"));

        var problem = await AssertProblemAsync(response, HttpStatusCode.Conflict, "placement");
        Assert.Contains("region=eu", problem.GetProperty("detail").GetString());
        Assert.Equal(1, await QueryAsync(db => db.Workspaces.CountAsync()));
    }

    [Fact]
    public async Task Create_IgnoresAgentsWithoutWorkspaceRuntimeOrEndpointOrActiveStatus()
    {
        await RegisterWorkspaceAgentAsync("farm", runtime: RuntimeNames.Devices);
        await RegisterWorkspaceAgentAsync("no-endpoint", endpoint: null);
        var broken = await RegisterWorkspaceAgentAsync("broken");
        await QueryAsync(db => db.Agents.Where(a => a.Id == broken.Agent.Id).ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, AgentStatuses.Error)));

        var response = await CreateAsync(new CreateWorkspaceRequest("ws", "alpine:3"));

        await AssertProblemAsync(response, HttpStatusCode.Conflict, "placement");
    }

    [Fact]
    public async Task Create_NamedAgent_UnknownFullOrMalformed_NamesAgentId()
    {
        var small = await RegisterWorkspaceAgentAsync("small", capacity: 1);
        await RegisterWorkspaceAgentAsync("big", capacity: 10);
        var placed = await CreatedAsync(new CreateWorkspaceRequest("first", "alpine:3", AgentId: small.Agent.Id.ToString()));
        Assert.Equal("small", placed.AgentName);

        await AssertProblemAsync(await CreateAsync(new CreateWorkspaceRequest("second", "alpine:3", AgentId: "small")), HttpStatusCode.Conflict, "agent_id");
        await AssertProblemAsync(await CreateAsync(new CreateWorkspaceRequest("third", "alpine:3", AgentId: "nope")), HttpStatusCode.NotFound, "agent_id");
        await AssertProblemAsync(await CreateAsync(new CreateWorkspaceRequest("fourth", "alpine:3", AgentId: "bad name!")), HttpStatusCode.BadRequest, "agent_id");
        Assert.Equal(1, await QueryAsync(db => db.Workspaces.CountAsync()));
    }

    [Fact]
    public async Task Create_DuplicateName_Returns409()
    {
        await RegisterWorkspaceAgentAsync("a");
        await CreatedAsync(new CreateWorkspaceRequest("dup", "alpine:3"));

        await AssertProblemAsync(await CreateAsync(new CreateWorkspaceRequest("dup", "alpine:3")), HttpStatusCode.Conflict, "name");
    }

    public static readonly TheoryData<string, string> BadBodies = new()
    {
        { """{"image":"alpine:3"}""", "name" },
        { """{"name":"Bad_Name","image":"alpine:3"}""", "name" },
        { """{"name":"ok"}""", "image" },
        { """{"name":"ok","image":"has space"}""", "image" },
        { """{"name":"ok","image":"alpine:3","port":0}""", "port" },
        { """{"name":"ok","image":"alpine:3","port":70000}""", "port" },
        { """{"name":"ok","image":"alpine:3","cpu":0}""", "cpu" },
        { """{"name":"ok","image":"alpine:3","cpu":-1.5}""", "cpu" },
        { """{"name":"ok","image":"alpine:3","memory_mb":1}""", "memory_mb" },
        { """{"name":"ok","image":"alpine:3","labels":{"":"x"}}""", "labels." },
        { """{"name":"ok","image":"alpine:3","env":{"1BAD":"x"}}""", "env.1BAD" },
    };

    // One server for every case: starting one per case would cost more than the cases.
    [Fact]
    public async Task Create_BadBody_Returns400NamingTheField_AndStoresNothing()
    {
        await RegisterWorkspaceAgentAsync("a");
        using var admin = Server.Operator();

        foreach (var row in BadBodies)
        {
            var (body, field) = ((string)row[0], (string)row[1]);
            var response = await admin.PostAsync(Routes.Workspaces, RawJson(body));
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, field);
        }

        Assert.Equal(0, await QueryAsync(db => db.Workspaces.CountAsync()));
        Assert.Equal(0, await QueryAsync(db => db.AuditLog.CountAsync(a => a.Action.StartsWith("workspace."))));
    }

    [Fact]
    public async Task Create_Concurrently_NeverExceedsCapacity()
    {
        await RegisterWorkspaceAgentAsync("a", capacity: 2);
        await RegisterWorkspaceAgentAsync("b", capacity: 1);

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => CreateAsync(new CreateWorkspaceRequest($"ws-{i}", "alpine:3"))));

        Assert.Equal(3, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(5, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        var perAgent = await QueryAsync(db => db.Workspaces.GroupBy(w => w.AgentId).Select(g => g.Count()).ToListAsync());
        Assert.Equal(new[] { 1, 2 }, perAgent.Order());
    }

    [Fact]
    public async Task Get_ByIdOrName_ShowsAgentAndError_AndListFilters()
    {
        await RegisterWorkspaceAgentAsync("a");
        var created = await CreatedAsync(new CreateWorkspaceRequest("seen", "alpine:3", Env: new Dictionary<string, string> { ["TOKEN"] = "secret" }));

        var byName = await GetAsync("seen");
        var byId = await GetAsync(created.Id.ToString());

        Assert.Equal(created.Id, byName.Id);
        Assert.Equal(byName, byId with { EnvKeys = byName.EnvKeys, Labels = byName.Labels });
        Assert.Equal("a", byName.AgentName);
        Assert.Equal(["TOKEN"], byName.EnvKeys);
        using var admin = Server.Operator();
        var errors = (await admin.GetFromJsonAsync($"{Routes.Workspaces}?status=error&agent=a", Json.PageWorkspaceView))!;
        Assert.Equal(created.Id, Assert.Single(errors.Items).Id);
        var running = (await admin.GetFromJsonAsync($"{Routes.Workspaces}?status=running", Json.PageWorkspaceView))!;
        Assert.Empty(running.Items);
        await AssertProblemAsync(await admin.GetAsync($"{Routes.Workspaces}?status=bogus"), HttpStatusCode.BadRequest, "status");
        await AssertProblemAsync(await admin.GetAsync($"{Routes.Workspaces}/missing"), HttpStatusCode.NotFound, "workspace");
    }

    [Fact]
    public async Task Delete_AgentUnreachable_StaysDeleting_ForceRemovesIt()
    {
        await RegisterWorkspaceAgentAsync("a");
        await CreatedAsync(new CreateWorkspaceRequest("doomed", "alpine:3"));
        using var admin = Server.Operator();

        var response = await admin.DeleteAsync($"{Routes.Workspaces}/doomed");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var view = (await response.Content.ReadFromJsonAsync(Json.WorkspaceView))!;
        Assert.Equal(WorkspaceStatus.Deleting, view.Status);
        Assert.Contains("force=true", view.LastErrorMessage);
        // Still held against the agent's capacity while its resources may exist.
        Assert.Equal(1, await QueryAsync(db => db.Workspaces.CountAsync()));

        var forced = await admin.DeleteAsync($"{Routes.Workspaces}/doomed?force=true");

        Assert.Equal(HttpStatusCode.NoContent, forced.StatusCode);
        Assert.Equal(0, await QueryAsync(db => db.Workspaces.CountAsync()));
    }

    [Fact]
    public async Task Operations_InWrongState_Return409NamingStatus()
    {
        await RegisterWorkspaceAgentAsync("a");
        await CreatedAsync(new CreateWorkspaceRequest("err", "alpine:3"));
        using var admin = Server.Operator();

        await AssertProblemAsync(await admin.PostAsync($"{Routes.Workspaces}/err/archive", null), HttpStatusCode.Conflict, "status");
        await AssertProblemAsync(await admin.PostAsync($"{Routes.Workspaces}/err/restore", null), HttpStatusCode.Conflict, "status");
        await AssertProblemAsync(await admin.PostAsync($"{Routes.Workspaces}/nope/start", null), HttpStatusCode.NotFound, "workspace");
        await AssertProblemAsync(await admin.PostAsync($"{Routes.Workspaces}/err/restore", RawJson("{not json")), HttpStatusCode.BadRequest, "body");
    }
}

public sealed class WorkspacePlacementTests_Sqlite() : WorkspacePlacementTests(Providers.Sqlite);

public sealed class WorkspacePlacementTests_Postgres() : WorkspacePlacementTests(Providers.Postgres);
