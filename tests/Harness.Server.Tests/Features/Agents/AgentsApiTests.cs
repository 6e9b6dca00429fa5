using System.Net;
using System.Net.Http.Json;
using Harness.Contracts;
using Harness.Contracts.Agents;
using Harness.Contracts.Nodes;
using Harness.Contracts.Tokens;
using Harness.Testing;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Tests.Features.Agents;

public abstract class AgentsApiTests(string provider) : ApiTest(provider)
{
    [Fact]
    public async Task Register_ReturnsKeyOnce_AndStoresOnlyItsHash()
    {
        var created = await RegisterAgentAsync("PC-01", [RuntimeNames.Devices]);

        Assert.StartsWith("hak_", created.ApiKey);
        Assert.Equal("PC-01", created.Agent.Name);
        Assert.Equal(AgentStatuses.Active, created.Agent.Status);
        var stored = await QueryAsync(db => db.Agents.SingleAsync(a => a.Name == "PC-01"));
        Assert.Equal(32, stored.ApiKeyHash.Length);
        Assert.False(created.ApiKey.Contains(Convert.ToHexString(stored.ApiKeyHash), StringComparison.OrdinalIgnoreCase));
        var listed = Assert.Single(await AgentsAsync());
        Assert.Equal(created.Agent.Id, listed.Id);
        Assert.False(listed.Online);
        Assert.Null(listed.LastSeen);
    }

    [Fact]
    public async Task Register_SameNameTwice_Returns409NamingName()
    {
        await RegisterAgentAsync("PC-01");
        using var admin = Server.Operator();

        var response = await admin.PostAsJsonAsync(Routes.Agents, new RegisterAgentRequest("PC-01"), Json.RegisterAgentRequest);

        await AssertProblemAsync(response, HttpStatusCode.Conflict, "name");
        Assert.Single(await AgentsAsync());
    }

    [Theory]
    [InlineData("""{}""", "name")]
    [InlineData("""{"name":"bad name!"}""", "name")]
    [InlineData("""{"name":"PC-01","runtimes":["devices","teleport"]}""", "runtimes[1]")]
    [InlineData("""{"name":"PC-01","capacity":-1}""", "capacity")]
    [InlineData("""{"name":"PC-01","capacity":"many"}""", "capacity")]
    [InlineData("""{"name":"PC-01","endpoint":"ftp://x"}""", "endpoint")]
    [InlineData("""{"name":"PC-01","labels":{"gpu":7}}""", "labels.gpu")]
    public async Task Register_InvalidBody_Returns400NamingField(string body, string field)
    {
        using var admin = Server.Operator();

        var response = await admin.PostAsync(Routes.Agents, RawJson(body));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Empty(await AgentsAsync());
    }

    [Fact]
    public async Task Heartbeat_MarksAgentOnline_ThenOfflineAfterTheWindow()
    {
        var agent = await RegisterAgentAsync("PC-01");

        var response = await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Version: "1.2.3", VendorWsOk: true, CurrentLoad: 3, Capacity: 20));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var online = Assert.Single(await AgentsAsync());
        Assert.True(online.Online);
        Assert.Equal(Server.Time.GetUtcNow(), online.LastSeen);
        Assert.Equal("1.2.3", online.Version);
        Assert.True(online.VendorWsOk);
        Assert.Equal(3, online.CurrentLoad);

        Server.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(Assert.Single(await AgentsAsync()).Online);
        Server.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(Assert.Single(await AgentsAsync()).Online);
    }

    [Fact]
    public async Task Heartbeat_UpsertsWorkerHeartbeatRow_OnceItIsOlderThanAThirdOfTheOnlineWindow()
    {
        var agent = await RegisterAgentAsync("PC-01");
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest());
        var first = Server.Time.GetUtcNow();

        // The online window is 30 s: a heartbeat 7 s later that changes nothing writes nothing.
        Server.Time.Advance(TimeSpan.FromSeconds(7));
        Assert.Equal(HttpStatusCode.OK, (await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest())).StatusCode);
        Assert.Equal(first, Assert.Single(await QueryAsync(db => db.WorkerHeartbeats.ToListAsync())).UpdatedAt);
        Assert.Equal(first, Assert.Single(await AgentsAsync()).LastSeen);

        // A change is written at once; last_seen waits for its third of the window.
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(CurrentLoad: 4));
        Assert.Equal(4, Assert.Single(await AgentsAsync()).CurrentLoad);

        Server.Time.Advance(TimeSpan.FromSeconds(4));
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest());

        var row = Assert.Single(await QueryAsync(db => db.WorkerHeartbeats.ToListAsync()));
        Assert.Equal(agent.Agent.Id.ToString(), row.WorkerId);
        Assert.Equal(Server.Time.GetUtcNow(), row.UpdatedAt);
        Assert.Equal(Server.Time.GetUtcNow(), Assert.Single(await AgentsAsync()).LastSeen);
    }

    [Fact]
    public async Task Heartbeat_WithNodeAuthHeader_IsAccepted()
    {
        var agent = await RegisterAgentAsync("PC-01");
        using var client = Server.Agent(agent.ApiKey, useNodeAuthHeader: true);

        var response = await client.PostAsJsonAsync(Routes.NodesHeartbeat, new HeartbeatRequest(), Json.HeartbeatRequest);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("hak_0000000000000000.wrongsecret")]
    [InlineData("not-a-key")]
    [InlineData("")]
    public async Task Heartbeat_WithWrongKey_Returns401Problem(string key)
    {
        var agent = await RegisterAgentAsync("PC-01");
        var tampered = key == "" ? agent.ApiKey[..^2] + "xx" : key;

        var response = await HeartbeatAsync(tampered, new HeartbeatRequest());

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "authorization");
        Assert.False(Assert.Single(await AgentsAsync()).Online);
    }

    [Fact]
    public async Task Heartbeat_AfterKeyRevoked_Returns401_AndRotatedKeyWorks()
    {
        var agent = await RegisterAgentAsync("PC-01");
        using var admin = Server.Operator();
        // The key was just checked, so the server remembers it (AgentKeyCache): revoking must forget it at once.
        Assert.Equal(HttpStatusCode.OK, (await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest())).StatusCode);

        var revoked = await admin.PostAsync($"{Routes.Agents}/PC-01/revoke", null);
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        await AssertProblemAsync(await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest()), HttpStatusCode.Unauthorized, "authorization");
        Assert.Equal(AgentStatuses.Inactive, Assert.Single(await AgentsAsync()).Status);

        var rotated = await admin.PostAsync($"{Routes.Agents}/{agent.Agent.Id}/rotate-key", null);
        var fresh = (await rotated.Content.ReadFromJsonAsync(Json.AgentCredentialResponse))!;
        Assert.NotEqual(agent.ApiKey, fresh.ApiKey);
        Assert.Equal(HttpStatusCode.OK, (await HeartbeatAsync(fresh.ApiKey, new HeartbeatRequest())).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest())).StatusCode);

        // Rotating again forgets the remembered key as well.
        var again = (await (await admin.PostAsync($"{Routes.Agents}/{agent.Agent.Id}/rotate-key", null)).Content.ReadFromJsonAsync(Json.AgentCredentialResponse))!;
        Assert.Equal(HttpStatusCode.Unauthorized, (await HeartbeatAsync(fresh.ApiKey, new HeartbeatRequest())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await HeartbeatAsync(again.ApiKey, new HeartbeatRequest())).StatusCode);
    }

    [Fact]
    public async Task Heartbeat_AfterAgentDeleted_Returns401_EvenRightAfterTheKeyWorked()
    {
        var agent = await RegisterAgentAsync("PC-01");
        using var admin = Server.Operator();
        Assert.Equal(HttpStatusCode.OK, (await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest())).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{Routes.Agents}/PC-01")).StatusCode);

        await AssertProblemAsync(await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest()), HttpStatusCode.Unauthorized, "authorization");
    }

    [Fact]
    public async Task Enroll_WithSharedSecret_CreatesAgentOnce()
    {
        using var client = Server.Operator(TestServer.EnrollmentSecret);

        var first = await client.PostAsJsonAsync(Routes.NodesEnroll, new EnrollRequest("PC-07", [RuntimeNames.Devices], 20), Json.EnrollRequest);
        var second = await client.PostAsJsonAsync(Routes.NodesEnroll, new EnrollRequest("PC-07"), Json.EnrollRequest);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var enrolled = (await first.Content.ReadFromJsonAsync(Json.AgentCredentialResponse))!;
        Assert.Equal(HttpStatusCode.OK, (await HeartbeatAsync(enrolled.ApiKey, new HeartbeatRequest())).StatusCode);
        await AssertProblemAsync(second, HttpStatusCode.Conflict, "name");
        Assert.Single(await AgentsAsync());
    }

    [Fact]
    public async Task Enroll_WithWrongSecret_Returns401()
    {
        using var client = Server.Operator("wrong-secret-wrong-secret");

        var response = await client.PostAsJsonAsync(Routes.NodesEnroll, new EnrollRequest("PC-07"), Json.EnrollRequest);

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "authorization");
        Assert.Empty(await AgentsAsync());
    }

    [Fact]
    public async Task Register_WithOperatorRoleToken_Returns403()
    {
        using var admin = Server.Operator();
        var made = await admin.PostAsJsonAsync(Routes.Tokens, new CreateTokenRequest("viewer", OperatorRoles.Operator), Json.CreateTokenRequest);
        var token = (await made.Content.ReadFromJsonAsync(Json.TokenCreatedResponse))!;
        using var viewer = Server.Operator(token.Secret);

        var register = await viewer.PostAsJsonAsync(Routes.Agents, new RegisterAgentRequest("PC-01"), Json.RegisterAgentRequest);
        var list = await viewer.GetAsync(Routes.Agents);

        Assert.Equal(HttpStatusCode.Forbidden, register.StatusCode);
        Assert.Equal("application/problem+json", register.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
    }

    [Fact]
    public async Task Delete_RemovesAgentAndReleasesItsDevices()
    {
        var agent = await RegisterAgentAsync("PC-01");
        await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest(Devices: [new DeviceReport("D1")]));
        using var admin = Server.Operator();

        var response = await admin.DeleteAsync($"{Routes.Agents}/PC-01");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(await AgentsAsync());
        Assert.Equal(0, (await NodeStatusAsync()).Total);
        Assert.Equal(HttpStatusCode.Unauthorized, (await HeartbeatAsync(agent.ApiKey, new HeartbeatRequest())).StatusCode);
    }
}

public sealed class AgentsApiTests_Sqlite() : AgentsApiTests(Providers.Sqlite);

public sealed class AgentsApiTests_Postgres() : AgentsApiTests(Providers.Postgres);
