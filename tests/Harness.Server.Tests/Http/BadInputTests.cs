using System.Net;
using System.Text;
using Harness.Contracts;
using Harness.Contracts.Nodes;
using Harness.Testing;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Tests.Http;

/// <summary>Malformed JSON, wrong types and oversized bodies get 4xx problem+json naming the field; nothing stored changes.</summary>
public abstract class BadInputTests(string provider) : ApiTest(provider)
{
    private const int BodyLimit = 16 * 1024;

    protected override IDictionary<string, string?> Configuration =>
        new Dictionary<string, string?> { ["Harness:MaxRequestBodyBytes"] = BodyLimit.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    [Theory]
    [InlineData("""{"version": "1.0", """, "body")]
    [InlineData("""not json at all""", "body")]
    [InlineData("""[1,2,3]""", "body")]
    [InlineData("""{"current_load": "high"}""", "current_load")]
    [InlineData("""{"vendor_ws_ok": "yes"}""", "vendor_ws_ok")]
    [InlineData("""{"devices": {"device_id": "x"}}""", "devices")]
    [InlineData("""{"devices": [{"device_id": 12}]}""", "devices[0].device_id")]
    [InlineData("""{"devices": [{"device_id": "A", "state": "flying"}]}""", "devices[0].state")]
    [InlineData("""{"devices": [{"model": "Pixel"}]}""", "devices[0].device_id")]
    [InlineData("""{"devices": [{"device_id": "A"}, {"device_id": "A"}]}""", "devices[1].device_id")]
    [InlineData("""{"devices": [null]}""", "devices[0]")]
    [InlineData("""{"current_load": -4}""", "current_load")]
    [InlineData("""{"runtimes": ["devices", 3]}""", "runtimes[1]")]
    public async Task Heartbeat_BadBody_Returns400NamingField_AndChangesNothing(string body, string field)
    {
        var agent = await RegisterAgentAsync("PC-01");
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Version: "1.0", Devices: [new DeviceReport("KEEP", Model: "Pixel 7")]));
        Server.Time.Advance(TimeSpan.FromSeconds(5));
        using var client = Server.Agent(agent.ApiKey);

        var response = await client.PostAsync(Routes.NodesHeartbeat, RawJson(body));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, field);
        var device = await QueryAsync(db => db.Devices.AsNoTracking().SingleAsync());
        Assert.Equal("KEEP", device.DeviceId);
        Assert.Equal("Pixel 7", device.Model);
        var stored = await QueryAsync(db => db.Agents.AsNoTracking().SingleAsync());
        Assert.Equal("1.0", stored.Version);
        Assert.Equal(Server.Time.GetUtcNow().AddSeconds(-5), stored.LastSeen);
    }

    [Fact]
    public async Task Heartbeat_OversizedBody_Returns413NamingBody()
    {
        var agent = await RegisterAgentAsync("PC-01");
        using var client = Server.Agent(agent.ApiKey);
        var devices = string.Join(',', Enumerable.Range(0, 2000).Select(i => $$"""{"device_id":"DEVICE-{{i:0000}}"}"""));

        var response = await client.PostAsync(Routes.NodesHeartbeat, RawJson($$"""{"devices":[{{devices}}]}"""));

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "body");
        Assert.Equal(0, await QueryAsync(db => db.Devices.CountAsync()));
    }

    [Fact]
    public async Task Heartbeat_OversizedChunkedBody_Returns413()
    {
        var agent = await RegisterAgentAsync("PC-01");
        using var client = Server.Agent(agent.ApiKey);
        var payload = Encoding.UTF8.GetBytes($$"""{"version":"{{new string('x', BodyLimit * 2)}}"}""");
        using var content = new StreamContent(new MemoryStream(payload));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, Routes.NodesHeartbeat) { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await client.SendAsync(request);

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "body");
    }

    [Fact]
    public async Task Post_WithUnknownCharset_Returns415NamingContentType_Not500()
    {
        var agent = await RegisterAgentAsync("PC-01");
        using var client = Server.Agent(agent.ApiKey);
        var content = RawJson("{}");
        content.Headers.ContentType!.CharSet = "ebcdic";

        var response = await client.PostAsync(Routes.NodesHeartbeat, content);

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "content-type");
    }

    [Fact]
    public async Task Post_WithoutBody_Returns400NamingBody()
    {
        using var admin = Server.Operator();

        var response = await admin.PostAsync(Routes.Agents, new StringContent("", Encoding.UTF8, "application/json"));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "body");
    }

    [Fact]
    public async Task Post_WithWrongContentType_Returns415NamingContentType()
    {
        using var admin = Server.Operator();

        var response = await admin.PostAsync(Routes.Agents, new StringContent("name=PC-01", Encoding.UTF8, "application/x-www-form-urlencoded"));

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "content-type");
        Assert.Empty(await AgentsAsync());
    }

    [Fact]
    public async Task Heartbeat_TooLongDeviceId_Returns400()
    {
        var agent = await RegisterAgentAsync("PC-01");

        var response = await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: [new DeviceReport(new string('d', 500))]));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "devices[0].device_id");
    }
}

public sealed class BadInputTests_Sqlite() : BadInputTests(Providers.Sqlite);

public sealed class BadInputTests_Postgres() : BadInputTests(Providers.Postgres);
