using Harness.Contracts.Agents;
using Harness.Contracts.Workspaces;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Workspaces;
using Harness.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Harness.Server.Tests.Features.Workspaces;

public abstract class AgentHealthCheckerTests(string provider) : WorkspaceTest(provider)
{
    private Task<int> CheckAsync() => Server.Services.GetRequiredService<AgentHealthChecker>().CheckAsync(CancellationToken.None);

    private Task<AgentEntity> AgentAsync(Guid id) => QueryAsync(db => db.Agents.AsNoTracking().SingleAsync(a => a.Id == id));

    private async Task<Guid> SeedWorkspaceAsync(Guid agentId, string name, string status)
    {
        var id = Guid.NewGuid();
        var now = Server.Time.GetUtcNow();
        await QueryAsync(db =>
        {
            db.Workspaces.Add(new WorkspaceEntity
            {
                Id = id, Name = name, Image = "alpine:3", AgentId = agentId, Status = status,
                Upstream = status == WorkspaceStatus.Running ? "http://127.0.0.1:9/" : null, CreatedAt = now, UpdatedAt = now,
            });
            return db.SaveChangesAsync();
        });
        return id;
    }

    [Fact]
    public async Task AgentDown_FailsWithBackoff_ThenErrorAfterThreshold_WithItsWorkspaces()
    {
        var agent = await RegisterWorkspaceAgentAsync("dead");
        var running = await SeedWorkspaceAsync(agent.Agent.Id, "running-one", WorkspaceStatus.Running);
        var archived = await SeedWorkspaceAsync(agent.Agent.Id, "archived-one", WorkspaceStatus.Archived);

        Assert.Equal(1, await CheckAsync());
        var afterFirst = await AgentAsync(agent.Agent.Id);
        Assert.Equal(1, afterFirst.ConsecutiveHealthFailures);
        Assert.Equal(AgentStatuses.Active, afterFirst.Status);
        Assert.Equal(Server.Time.GetUtcNow().AddSeconds(60), afterFirst.NextHealthAt); // 30 s doubled once

        Server.Time.Advance(TimeSpan.FromSeconds(30));
        await CheckAsync();
        Assert.Equal(1, (await AgentAsync(agent.Agent.Id)).ConsecutiveHealthFailures); // not due yet: backing off

        Server.Time.Advance(TimeSpan.FromSeconds(30));
        await CheckAsync();
        var afterSecond = await AgentAsync(agent.Agent.Id);
        Assert.Equal(2, afterSecond.ConsecutiveHealthFailures);
        Assert.Equal(Server.Time.GetUtcNow().AddSeconds(120), afterSecond.NextHealthAt);
        Assert.Equal(AgentStatuses.Active, afterSecond.Status);

        Server.Time.Advance(TimeSpan.FromSeconds(120));
        await CheckAsync();
        var down = await AgentAsync(agent.Agent.Id);
        Assert.Equal(3, down.ConsecutiveHealthFailures);
        Assert.Equal(AgentStatuses.Error, down.Status);
        Assert.Contains("3 health checks", down.LastErrorMessage);

        var workspace = await GetAsync(running.ToString());
        Assert.Equal(WorkspaceStatus.Error, workspace.Status);
        Assert.StartsWith("agent dead unreachable:", workspace.LastErrorMessage);
        Assert.Null(workspace.Upstream);
        Assert.Equal(WorkspaceStatus.Archived, (await GetAsync(archived.ToString())).Status);
        Assert.True(await QueryAsync(db => db.Workspaces.Where(w => w.Id == running).Select(w => w.ErrorFromHealthCheck).SingleAsync()));
    }

    [Fact]
    public void Backoff_DoublesPerFailure_UpToTheCap()
    {
        var checker = Server.Services.GetRequiredService<AgentHealthChecker>();

        Assert.Equal(TimeSpan.FromSeconds(60), checker.Backoff(1));
        Assert.Equal(TimeSpan.FromSeconds(240), checker.Backoff(3));
        Assert.Equal(TimeSpan.FromSeconds(300), checker.Backoff(4));
        Assert.Equal(TimeSpan.FromSeconds(300), checker.Backoff(1000));
    }

    [Fact]
    public async Task Check_SkipsAgentsWithoutWorkspaceRuntimeOrEndpoint()
    {
        await RegisterWorkspaceAgentAsync("farm", runtime: RuntimeNames.Devices);
        await RegisterWorkspaceAgentAsync("no-endpoint", endpoint: null);

        Assert.Equal(0, await CheckAsync());
    }
}

public sealed class AgentHealthCheckerTests_Sqlite() : AgentHealthCheckerTests(Providers.Sqlite);

public sealed class AgentHealthCheckerTests_Postgres() : AgentHealthCheckerTests(Providers.Postgres);
