using System.Net;
using Harness.Contracts.Nodes;
using Harness.Testing;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Tests.Features.Nodes;

public abstract class HeartbeatInventoryTests(string provider) : ApiTest(provider)
{
    [Fact]
    public async Task Heartbeat_NewDevices_GetIndexNumbersInDeviceIdOrder_AndShowOnline()
    {
        var agent = await RegisterAgentAsync("PC-01");

        var response = await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices:
        [
            new DeviceReport("SERIAL-C", "emulator-5558", "Pixel 7"),
            new DeviceReport("SERIAL-A", "emulator-5554", "Pixel 7"),
            new DeviceReport("SERIAL-B", "emulator-5556", "Galaxy S23", DeviceState.Busy),
        ]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var status = await NodeStatusAsync();
        Assert.Equal(3, status.Total);
        Assert.Equal(3, status.Online);
        Assert.Equal(["SERIAL-A", "SERIAL-B", "SERIAL-C"], status.Devices.Select(d => d.DeviceId));
        Assert.Equal([1, 2, 3], status.Devices.Select(d => d.IndexNo ?? 0));
        Assert.All(status.Devices, d => Assert.Equal("PC-01", d.NodeId));
        Assert.Equal("emulator-5556", status.Devices[1].RuntimeHandle);
        Assert.Equal("busy", status.Devices[1].State);
    }

    [Fact]
    public async Task Heartbeat_RepeatingASteadyInventory_SkipsTheDevices_UntilOneIsDueOrADeviceChanged()
    {
        var agent = await RegisterAgentAsync("PC-01");
        DeviceReport[] devices = [new("D1", Model: "Pixel 7"), new("D2", Model: "Pixel 7")];
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: devices));
        Server.Time.Advance(TimeSpan.FromSeconds(5));
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: devices));

        // A row removed behind the server's back (as through another replica) is not seen by a repeat: the
        // heartbeat does not read the devices while none is due for its last_seen rewrite (10 s, a third of the window)...
        await QueryAsync(db => db.Devices.Where(d => d.DeviceId == "D2").ExecuteDeleteAsync());
        Server.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(HttpStatusCode.OK, (await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: devices))).StatusCode);
        Assert.Equal(["D1"], await DeviceIdsAsync());
        // ...and once one is, the heartbeat reads them all again, rewrites last_seen and brings D2 back.
        Server.Time.Advance(TimeSpan.FromSeconds(2));
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: devices));
        Assert.Equal(["D1", "D2"], await DeviceIdsAsync());
        Assert.All(await QueryAsync(db => db.Devices.ToListAsync()), d => Assert.Equal(Server.Time.GetUtcNow(), d.LastSeen));

        // A device changed through this server ends the repeat at once.
        Server.Time.Advance(TimeSpan.FromSeconds(1));
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: devices));
        using var admin = Server.Operator();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{Harness.Contracts.Routes.Devices}/D1")).StatusCode);
        Server.Time.Advance(TimeSpan.FromSeconds(1));
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: devices));
        Assert.Equal(["D1", "D2"], await DeviceIdsAsync());

        // So does a changed inventory.
        Server.Time.Advance(TimeSpan.FromSeconds(1));
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: devices));
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: [devices[0] with { State = DeviceState.Busy }, devices[1]]));
        Assert.Equal("busy", (await NodeStatusAsync()).Devices.Single(d => d.DeviceId == "D1").State);
    }

    private Task<List<string>> DeviceIdsAsync() => QueryAsync(db => db.Devices.OrderBy(d => d.DeviceId).Select(d => d.DeviceId).ToListAsync());

    [Fact]
    public async Task Devices_WithoutHeartbeat_TurnOfflineAfterTheWindow()
    {
        var agent = await RegisterAgentAsync("PC-01");
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: [new DeviceReport("D1"), new DeviceReport("D2")]));

        Server.Time.Advance(TimeSpan.FromSeconds(31));

        var status = await NodeStatusAsync();
        Assert.Equal(0, status.Online);
        Assert.Equal(2, status.Offline);
        Assert.All(status.Devices, d => Assert.Equal(OnlineStatus.Offline, d.Status));
    }

    [Fact]
    public async Task Heartbeat_DeviceReportedOffline_IsOfflineWithItsCause()
    {
        var agent = await RegisterAgentAsync("PC-01");
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: [new DeviceReport("D1")]));
        Server.Time.Advance(TimeSpan.FromSeconds(31));

        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: [new DeviceReport("D1", State: DeviceState.Offline, Error: "adb: device offline")]));

        var device = Assert.Single((await NodeStatusAsync()).Devices);
        Assert.Equal(OnlineStatus.Offline, device.Status);
        Assert.Equal("adb: device offline", device.LastErrorMessage);
        Assert.Equal("offline", device.State);
    }

    [Fact]
    public async Task Heartbeat_DeviceNoLongerReported_IsMarkedMissing()
    {
        var agent = await RegisterAgentAsync("PC-01");
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: [new DeviceReport("D1"), new DeviceReport("D2")]));

        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: [new DeviceReport("D1")]));

        var missing = (await NodeStatusAsync()).Devices.Single(d => d.DeviceId == "D2");
        Assert.Equal("missing", missing.State);
        Assert.Contains("not in PC-01's inventory", missing.LastErrorMessage);
    }

    [Fact]
    public async Task Heartbeat_WithoutDevicesField_LeavesInventoryAlone()
    {
        var agent = await RegisterAgentAsync("PC-01");
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: [new DeviceReport("D1")]));

        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(VendorWsOk: true));

        Assert.Equal("ready", Assert.Single((await NodeStatusAsync()).Devices).State);
    }

    [Fact]
    public async Task Heartbeat_DeviceHeldByAnotherAgent_Returns403AndChangesNothing()
    {
        var first = await RegisterAgentAsync("PC-01");
        var second = await RegisterAgentAsync("PC-02");
        await HeartbeatAsync(first.ApiKey, new HeartbeatRequest(Devices: [new DeviceReport("SHARED", Model: "Pixel 7")]));
        var before = await QueryAsync(db => db.Devices.AsNoTracking().SingleAsync());

        var response = await HeartbeatAsync(second.ApiKey, new HeartbeatRequest(Version: "9.9.9", Devices: [new DeviceReport("OWN"), new DeviceReport("SHARED", Model: "Stolen")]));

        await AssertProblemAsync(response, HttpStatusCode.Forbidden, "devices[1].device_id");
        var after = await QueryAsync(db => db.Devices.AsNoTracking().ToListAsync());
        var device = Assert.Single(after);
        Assert.Equal(before.AgentId, device.AgentId);
        Assert.Equal("Pixel 7", device.Model);
        var secondAgent = (await AgentsAsync()).Single(a => a.Name == "PC-02");
        Assert.Null(secondAgent.LastSeen);
        Assert.Null(secondAgent.Version);
    }

    [Fact]
    public async Task Heartbeat_AgentsInParallel_GetDistinctIndexNumbers()
    {
        var agents = await Task.WhenAll(Enumerable.Range(1, 8).Select(i => RegisterAgentAsync($"PC-{i:00}")));

        var responses = await Task.WhenAll(agents.Select((a, i) => HeartbeatAsync(a.ApiKey,
            new HeartbeatRequest(Devices: Enumerable.Range(0, 10).Select(d => new DeviceReport($"PC{i}-D{d}")).ToList()))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var status = await NodeStatusAsync();
        Assert.Equal(80, status.Total);
        Assert.Equal(80, status.Devices.Select(d => d.IndexNo).Distinct().Count());
    }
}

public sealed class HeartbeatInventoryTests_Sqlite() : HeartbeatInventoryTests(Providers.Sqlite);

public sealed class HeartbeatInventoryTests_Postgres() : HeartbeatInventoryTests(Providers.Postgres);
