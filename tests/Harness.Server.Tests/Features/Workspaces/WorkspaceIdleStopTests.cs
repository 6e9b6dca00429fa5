using Harness.Contracts.Workspaces;
using Harness.Server.Features.Workspaces;
using Harness.Testing;
using Harness.Testing.Workspaces;
using Microsoft.Extensions.DependencyInjection;

namespace Harness.Server.Tests.Features.Workspaces;

/// <summary>Idle workspaces stop; proxied traffic is what keeps one running.</summary>
public abstract class WorkspaceIdleStopTests(string provider) : WorkspaceTest(provider)
{
    private WorkspaceAgent? _agent;

    protected override IDictionary<string, string?> Configuration => new Dictionary<string, string?>
    {
        ["Harness:Workspaces:IdleStopMinutes"] = "120",
        // The test runs the passes itself; the background loop would race it as the fake clock jumps.
        ["Harness:Workspaces:IdleCheckIntervalSec"] = "86400",
    };

    public override async Task DisposeAsync()
    {
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }
        await base.DisposeAsync();
    }

    [Fact]
    public async Task StopIdle_StopsTheUnusedWorkspace_AndKeepsTheOneUsedThroughTheProxy()
    {
        var credential = await RegisterAgentAsync("fake-1");
        _agent = await WorkspaceAgent.StartAsync(Server.BaseAddress, "fake-1", credential.ApiKey);
        await _agent.WaitForRuntimeKeyAsync();
        var busy = await CreatedAsync(new CreateWorkspaceRequest("busy", "harness-test/http:1"));
        await CreatedAsync(new CreateWorkspaceRequest("quiet", "harness-test/http:1"));
        using (var http = new HttpClient())
        {
            (await http.PutAsync(new Uri(new Uri(busy.Upstream!), "index.html"), new StringContent("hi"))).EnsureSuccessStatusCode();
        }
        var stopper = Server.Services.GetRequiredService<WorkspaceIdleStopper>();

        Server.Time.Advance(TimeSpan.FromMinutes(100));
        Assert.Equal(0, await stopper.StopIdleAsync(CancellationToken.None));
        using (var admin = Server.Operator())
        {
            (await admin.GetAsync("/w/busy/index.html")).EnsureSuccessStatusCode();
        }
        Server.Time.Advance(TimeSpan.FromMinutes(30));

        Assert.Equal(1, await stopper.StopIdleAsync(CancellationToken.None));
        Assert.Equal(WorkspaceStatus.Stopped, (await GetAsync("quiet")).Status);
        Assert.Equal(WorkspaceStatus.Running, (await GetAsync("busy")).Status);
    }
}

public sealed class WorkspaceIdleStopTests_Sqlite() : WorkspaceIdleStopTests(Providers.Sqlite);

public sealed class WorkspaceIdleStopTests_Postgres() : WorkspaceIdleStopTests(Providers.Postgres);
