using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Agents;
using Harness.Contracts.Nodes;
using Harness.Server.Data;
using Harness.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Harness.Server.Tests;

/// <summary>
/// Base of every API test: a real server on loopback with its own database. Each test class has a
/// <c>_Sqlite</c> and a <c>_Postgres</c> subclass, so the whole API suite runs on both providers.
/// </summary>
public abstract class ApiTest(string provider) : IAsyncLifetime
{
    private TestServer? _server;

    protected string Provider { get; } = provider;

    protected TestServer Server => _server ?? throw new InvalidOperationException("not started");

    /// <summary>Extra configuration for the server under test.</summary>
    protected virtual IDictionary<string, string?> Configuration => new Dictionary<string, string?>();

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(Provider, Configuration);

    public virtual async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    protected static HarnessJsonContext Json => HarnessJsonContext.Default;

    protected async Task<AgentCredentialResponse> RegisterAgentAsync(string name, IReadOnlyList<string>? runtimes = null)
    {
        using var admin = Server.Operator();
        var response = await admin.PostAsJsonAsync(Routes.Agents, new RegisterAgentRequest(name, runtimes), Json.RegisterAgentRequest);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(Json.AgentCredentialResponse))!;
    }

    protected async Task<HttpResponseMessage> HeartbeatAsync(string key, HeartbeatRequest request)
    {
        using var agent = Server.Agent(key);
        return await agent.PostAsJsonAsync(Routes.NodesHeartbeat, request, Json.HeartbeatRequest);
    }

    protected async Task<IReadOnlyList<AgentView>> AgentsAsync()
    {
        using var admin = Server.Operator();
        return (await admin.GetFromJsonAsync(Routes.Agents, Json.IReadOnlyListAgentView))!;
    }

    protected async Task<NodeStatusResponse> NodeStatusAsync()
    {
        using var admin = Server.Operator();
        return (await admin.GetFromJsonAsync(Routes.NodesStatus, Json.NodeStatusResponse))!;
    }

    protected static StringContent RawJson(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>Asserts an RFC 9457 problem with <paramref name="status"/> whose errors name <paramref name="field"/>.</summary>
    protected static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.True(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _),
            $"problem does not name '{field}': {body}");
        Assert.Contains(field, problem.GetProperty("detail").GetString());
        return problem;
    }

    /// <summary>Runs <paramref name="query"/> on the server's own database.</summary>
    protected async Task<T> QueryAsync<T>(Func<HarnessDbContext, Task<T>> query)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<HarnessDbContext>());
    }
}
