using System.Net;
using System.Net.Http.Json;
using Harness.Contracts;
using Harness.Contracts.Agents;
using Harness.Contracts.Workspaces;

namespace Harness.Server.Tests.Features.Workspaces;

/// <summary>Helpers for workspace tests: agents that run a workspace runtime, and the workspaces API.</summary>
public abstract class WorkspaceTest(string provider) : ApiTest(provider)
{
    /// <summary>Nothing listens here: every Runtime Agent API call is refused at once.</summary>
    protected const string DeadEndpoint = "http://127.0.0.1:1";

    protected async Task<AgentCredentialResponse> RegisterWorkspaceAgentAsync(
        string name, int capacity = 10, string? region = null, IReadOnlyDictionary<string, string>? labels = null,
        string? endpoint = DeadEndpoint, string runtime = RuntimeNames.Fake)
    {
        using var admin = Server.Operator();
        var response = await admin.PostAsJsonAsync(Routes.Agents,
            new RegisterAgentRequest(name, [runtime], capacity, region, labels, endpoint), Json.RegisterAgentRequest);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(Json.AgentCredentialResponse))!;
    }

    protected async Task<HttpResponseMessage> CreateAsync(CreateWorkspaceRequest request)
    {
        using var admin = Server.Operator();
        return await admin.PostAsJsonAsync(Routes.Workspaces, request, Json.CreateWorkspaceRequest);
    }

    protected async Task<WorkspaceView> CreatedAsync(CreateWorkspaceRequest request)
    {
        var response = await CreateAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"expected 201, got {(int)response.StatusCode}: {body}");
        return System.Text.Json.JsonSerializer.Deserialize(body, Json.WorkspaceView)!;
    }

    protected async Task<WorkspaceView> GetAsync(string workspace)
    {
        using var admin = Server.Operator();
        return (await admin.GetFromJsonAsync($"{Routes.Workspaces}/{workspace}", Json.WorkspaceView))!;
    }
}
