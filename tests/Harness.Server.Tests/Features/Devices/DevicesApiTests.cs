using System.Net;
using System.Net.Http.Json;
using Harness.Contracts;
using Harness.Contracts.Devices;
using Harness.Contracts.Nodes;
using Harness.Testing;

namespace Harness.Server.Tests.Features.Devices;

public abstract class DevicesApiTests(string provider) : ApiTest(provider)
{
    [Fact]
    public async Task Patch_SetsIndexNoAndLabel_AndRejectsATakenIndex()
    {
        var agent = await RegisterAgentAsync("PC-01");
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: [new DeviceReport("A"), new DeviceReport("B")]));
        using var admin = Server.Operator();

        var moved = await admin.PatchAsJsonAsync($"{Routes.Devices}/B", new UpdateDeviceRequest(IndexNo: 10, Label: "shelf 2"), Json.UpdateDeviceRequest);
        var clash = await admin.PatchAsJsonAsync($"{Routes.Devices}/A", new UpdateDeviceRequest(IndexNo: 10), Json.UpdateDeviceRequest);

        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        await AssertProblemAsync(clash, HttpStatusCode.Conflict, "index_no");
        var device = (await admin.GetFromJsonAsync($"{Routes.Devices}/B", Json.DeviceView))!;
        Assert.Equal((10, "shelf 2"), (device.IndexNo, device.Label));
        Assert.Equal(1, (await admin.GetFromJsonAsync($"{Routes.Devices}/A", Json.DeviceView))!.IndexNo);
    }

    [Fact]
    public async Task Delete_ReleasesDevice_SoAnotherNodeMayClaimIt()
    {
        var first = await RegisterAgentAsync("PC-01");
        var second = await RegisterAgentAsync("PC-02");
        await HeartbeatAsync(first.ApiKey, new HeartbeatRequest(Devices: [new DeviceReport("MOVED")]));
        using var admin = Server.Operator();

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{Routes.Devices}/MOVED")).StatusCode);
        var claimed = await HeartbeatAsync(second.ApiKey, new HeartbeatRequest(Devices: [new DeviceReport("MOVED")]));

        Assert.Equal(HttpStatusCode.OK, claimed.StatusCode);
        Assert.Equal("PC-02", (await admin.GetFromJsonAsync($"{Routes.Devices}/MOVED", Json.DeviceView))!.NodeId);
    }

    [Fact]
    public async Task Get_UnknownDevice_Returns404Problem()
    {
        using var admin = Server.Operator();

        var response = await admin.GetAsync($"{Routes.Devices}/NOPE");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}

public sealed class DevicesApiTests_Sqlite() : DevicesApiTests(Providers.Sqlite);

public sealed class DevicesApiTests_Postgres() : DevicesApiTests(Providers.Postgres);
