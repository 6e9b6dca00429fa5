using System.Net;
using System.Net.Http.Json;
using System.Text;
using Harness.Contracts.Nodes;
using Harness.Server.Features.Workspaces;
using Harness.Testing;

namespace Harness.Server.Tests.Features.Workspaces;

public abstract class RuntimeKeyTests(string provider) : WorkspaceTest(provider)
{
    [Fact]
    public async Task Heartbeat_ReturnsRuntimeKey_StableAcrossCallsAndReplicas_AndPerAgent()
    {
        var a = await RegisterWorkspaceAgentAsync("a");
        var b = await RegisterWorkspaceAgentAsync("b");

        var first = await KeyAsync(Server, a.ApiKey);
        var again = await KeyAsync(Server, a.ApiKey);
        await using var replica = await Server.StartReplicaAsync();
        var fromReplica = await KeyAsync(replica, a.ApiKey);
        var other = await KeyAsync(replica, b.ApiKey);

        Assert.False(string.IsNullOrEmpty(first));
        Assert.Equal(first, again);
        Assert.Equal(first, fromReplica);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task Heartbeat_StoresRegionAndLabels()
    {
        var a = await RegisterWorkspaceAgentAsync("a");

        var response = await HeartbeatAsync(a.ApiKey, new HeartbeatRequest(Region: "eu-west", Labels: new Dictionary<string, string> { ["disk"] = "ssd" }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var view = Assert.Single(await AgentsAsync());
        Assert.Equal("eu-west", view.Region);
        Assert.Equal("ssd", view.Labels["disk"]);
    }

    private static async Task<string?> KeyAsync(TestServer server, string apiKey)
    {
        using var agent = server.Agent(apiKey);
        var response = await agent.PostAsJsonAsync(Harness.Contracts.Routes.NodesHeartbeat, new HeartbeatRequest(), Json.HeartbeatRequest);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(Json.HeartbeatResponse))!.RuntimeKey;
    }
}

public abstract class ConfiguredRuntimeKeyTests(string provider) : WorkspaceTest(provider)
{
    private const string Secret = "a-configured-runtime-key-secret-of-32+chars";

    protected override IDictionary<string, string?> Configuration => new Dictionary<string, string?> { ["Harness:Runtime:KeySecret"] = Secret };

    [Fact]
    public async Task Heartbeat_WithConfiguredSecret_ReturnsHmacOfAgentId()
    {
        var a = await RegisterWorkspaceAgentAsync("a");

        var response = await HeartbeatAsync(a.ApiKey, new HeartbeatRequest());

        var key = (await response.Content.ReadFromJsonAsync(Json.HeartbeatResponse))!.RuntimeKey;
        Assert.Equal(RuntimeKeys.Derive(Encoding.UTF8.GetBytes(Secret), a.Agent.Id), key);
    }
}

public sealed class RuntimeKeyTests_Sqlite() : RuntimeKeyTests(Providers.Sqlite);

public sealed class RuntimeKeyTests_Postgres() : RuntimeKeyTests(Providers.Postgres);

public sealed class ConfiguredRuntimeKeyTests_Sqlite() : ConfiguredRuntimeKeyTests(Providers.Sqlite);

public sealed class ConfiguredRuntimeKeyTests_Postgres() : ConfiguredRuntimeKeyTests(Providers.Postgres);
