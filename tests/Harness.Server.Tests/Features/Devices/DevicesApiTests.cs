using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Devices;
using Harness.Contracts.Nodes;
using Harness.Server.Features.Devices;
using Harness.Testing;
using Microsoft.EntityFrameworkCore;

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
    public async Task Listings_ShareOneReadForASecond_YetShowChangesMadeThroughTheServerAtOnce()
    {
        var agent = await RegisterAgentAsync("PC-01");
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: [new DeviceReport("A"), new DeviceReport("B")]));
        using var admin = Server.Operator();
        Assert.Equal([null, null], (await ListAsync(admin)).Select(d => d.Label));

        // Written behind the server's back, as another replica would: both listings keep their copy while it is young,
        // then serve it while a read in the background replaces it.
        await QueryAsync(db => db.Devices.Where(d => d.DeviceId == "A").ExecuteUpdateAsync(u => u.SetProperty(d => d.Label, "elsewhere")));
        // (The test's clock stands still while the server reads, so a copy is fresh for MinFresh exactly.)
        Server.Time.Advance(FleetSnapshot.MinFresh - TimeSpan.FromMilliseconds(1));
        Assert.Null((await ListAsync(admin))[0].Label);
        Assert.Null((await NodeStatusAsync()).Devices[0].Label);
        Server.Time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.UntilAsync(async () => (await ListAsync(admin))[0].Label == "elsewhere", "the copy is read again");
        Assert.Equal("elsewhere", (await NodeStatusAsync()).Devices[0].Label);

        // Through the server: at once.
        var patched = await admin.PatchAsJsonAsync($"{Routes.Devices}/B", new UpdateDeviceRequest(Label: "here"), Json.UpdateDeviceRequest);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal("here", (await ListAsync(admin))[1].Label);
        Assert.Equal("here", (await NodeStatusAsync()).Devices[1].Label);

        // Offline by age, then back online with the next heartbeat, which shows at once.
        Server.Time.Advance(TimeSpan.FromSeconds((await NodeStatusAsync()).OnlineWindowSec + 1));
        Assert.Equal((0, 2), ((await NodeStatusAsync()).Online, (await NodeStatusAsync()).Offline));
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: [new DeviceReport("A"), new DeviceReport("B")]));
        Assert.Equal(2, (await NodeStatusAsync()).Online);
        Assert.All(await ListAsync(admin), d => Assert.Equal(OnlineStatus.Online, d.Status));

        // One node's devices, from the same copy.
        var other = await RegisterAgentAsync("PC-02");
        await HeartbeatAsync(other.ApiKey, new HeartbeatRequest(Devices: [new DeviceReport("C")]));
        var pc02 = (await admin.GetFromJsonAsync($"{Routes.NodesStatus}?node=PC-02", Json.NodeStatusResponse))!;
        Assert.Equal((1, 1, "C"), (pc02.Total, pc02.Online, Assert.Single(pc02.Devices).DeviceId));
        Assert.Equal(3, (await NodeStatusAsync()).Total);
    }

    [Fact]
    public async Task Listings_ComeGzipCompressed_ToACallerThatAcceptsGzip()
    {
        var agent = await RegisterAgentAsync("PC-01");
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: [.. Enumerable.Range(1, 50).Select(i => new DeviceReport($"SIM-{i:D3}"))]));
        using var admin = Server.Operator();
        var plainList = await admin.GetAsync(Routes.Devices);
        var plainStatus = await admin.GetAsync(Routes.NodesStatus);
        Assert.Null(plainList.Content.Headers.ContentEncoding.SingleOrDefault());
        Assert.Contains("Accept-Encoding", plainList.Headers.Vary);

        foreach (var accepted in new[] { "gzip", "br, gzip;q=0.5", "*", "GZIP;q=1.0" })
        {
            foreach (var (path, plain) in new[] { (Routes.Devices, plainList), (Routes.NodesStatus, plainStatus) })
            {
                var response = await GetAcceptingAsync(admin, path, accepted);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
                Assert.Contains("Accept-Encoding", response.Headers.Vary);
                var compressed = await response.Content.ReadAsByteArrayAsync();
                await using var gunzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
                using var body = new MemoryStream();
                await gunzip.CopyToAsync(body);
                Assert.Equal(await plain.Content.ReadAsByteArrayAsync(), body.ToArray());
                Assert.True(compressed.Length < body.Length / 4, $"{path}: {compressed.Length} bytes compressed from {body.Length}");
            }
        }
        foreach (var refused in new[] { "gzip;q=0", "br", "identity", "*;q=0", "gzip;q=0, *", "not a ;;; header" })
        {
            var response = await GetAcceptingAsync(admin, Routes.Devices, refused);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Empty(response.Content.Headers.ContentEncoding);
            Assert.Equal(await plainList.Content.ReadAsByteArrayAsync(), await response.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task Listings_OfAFleetReadAgainInTheBackground_AreWhole_InBothForms()
    {
        // More devices than a paced read takes between two looks at the clock, over three nodes.
        foreach (var node in new[] { "PC-01", "PC-02", "PC-03" })
        {
            var agent = await RegisterAgentAsync(node);
            await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: [.. Enumerable.Range(1, 120).Select(i => new DeviceReport($"{node}-{i:D3}"))]));
        }
        using var admin = Server.Operator();
        Assert.Equal(360, (await ListAsync(admin)).Count);
        Assert.Equal(360, (await GetGzipListAsync(admin)).Count);

        // Behind the server's back, so only the read in the background shows it; it makes the gzip form the old copy was asked for.
        await QueryAsync(db => db.Devices.Where(d => d.DeviceId == "PC-03-120").ExecuteUpdateAsync(u => u.SetProperty(d => d.Label, "last")));
        Server.Time.Advance(FleetSnapshot.MinFresh);
        await Eventually.UntilAsync(async () => (await GetGzipListAsync(admin))[^1].Label == "last", "the copy is read again");

        var listed = await GetGzipListAsync(admin);
        Assert.Equal((await ListAsync(admin)).Select(d => (d.DeviceId, d.NodeId, d.IndexNo, d.Label)), listed.Select(d => (d.DeviceId, d.NodeId, d.IndexNo, d.Label)));
        Assert.Equal(Enumerable.Range(1, 360).Select(i => (int?)i), listed.Select(d => d.IndexNo));
        Assert.Equal(["PC-01", "PC-02", "PC-03"], listed.Select(d => d.NodeId).Distinct());
        Assert.All(listed, d => Assert.Equal(OnlineStatus.Online, d.Status));
        var status = (await admin.GetFromJsonAsync(Routes.NodesStatus, Json.NodeStatusResponse))!;
        Assert.Equal((360, 360, "last"), (status.Total, status.Online, status.Devices[^1].Label));
    }

    private static async Task<IReadOnlyList<DeviceView>> GetGzipListAsync(HttpClient client)
    {
        var response = await GetAcceptingAsync(client, Routes.Devices, "gzip");
        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        await using var gunzip = new GZipStream(await response.Content.ReadAsStreamAsync(), CompressionMode.Decompress);
        return (await JsonSerializer.DeserializeAsync(gunzip, Json.IReadOnlyListDeviceView))!;
    }

    private static async Task<HttpResponseMessage> GetAcceptingAsync(HttpClient client, string path, string acceptEncoding)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        return await client.SendAsync(request);
    }

    private static async Task<IReadOnlyList<DeviceView>> ListAsync(HttpClient admin) =>
        (await admin.GetFromJsonAsync(Routes.Devices, Json.IReadOnlyListDeviceView))!;

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
