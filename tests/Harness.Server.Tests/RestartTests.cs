using Harness.Contracts.Nodes;
using Harness.Testing;

namespace Harness.Server.Tests;

public abstract class RestartTests(string provider) : ApiTest(provider)
{
    [Fact]
    public async Task Restart_KeepsEveryAgentDeviceAndKey()
    {
        var agent = await RegisterAgentAsync("PC-01");
        await RegisterAgentAsync("PC-02");
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: [new DeviceReport("D1", Model: "Pixel 7"), new DeviceReport("D2")]));
        var before = await NodeStatusAsync();

        await Server.RestartAsync();

        Assert.Equal(["PC-01", "PC-02"], (await AgentsAsync()).Select(a => a.Name));
        var after = await NodeStatusAsync();
        Assert.Equal(before.Devices, after.Devices);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest())).StatusCode);
    }
}

public sealed class RestartTests_Sqlite() : RestartTests(Providers.Sqlite);

public sealed class RestartTests_Postgres() : RestartTests(Providers.Postgres);
