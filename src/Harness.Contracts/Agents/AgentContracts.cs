namespace Harness.Contracts.Agents;

/// <summary><c>POST /api/agents</c>: register an agent (a farm PC, a Docker host, a cluster) by name.</summary>
public sealed record RegisterAgentRequest(
    string? Name,
    IReadOnlyList<string>? Runtimes = null,
    int? Capacity = null,
    string? Region = null,
    IReadOnlyDictionary<string, string>? Labels = null,
    string? Endpoint = null);

/// <summary>Returned once, when an agent is registered, enrolled or its key rotated: the key is never shown again.</summary>
public sealed record AgentCredentialResponse(AgentView Agent, string ApiKey);

public sealed record AgentView(
    Guid Id,
    string Name,
    string Status,
    bool Online,
    DateTimeOffset? LastSeen,
    string? Version,
    bool? VendorWsOk,
    IReadOnlyList<string> Runtimes,
    int Capacity,
    int CurrentLoad,
    string? Region,
    IReadOnlyDictionary<string, string> Labels,
    string? Endpoint,
    int DeviceCount,
    bool KeyRevoked,
    DateTimeOffset CreatedAt);

public static class AgentStatuses
{
    public const string Active = "active";
    public const string Inactive = "inactive";
    public const string Error = "error";
}

public static class RuntimeNames
{
    public const string Devices = "devices";
    public const string Docker = "docker";
    public const string Kubernetes = "kubernetes";
    public const string Sandbox = "sandbox";
    /// <summary>The fake workspace runtime <c>harness dev</c> and the tests run workspaces on.</summary>
    public const string Fake = "fake";

    public static readonly IReadOnlyList<string> All = [Devices, Docker, Kubernetes, Sandbox, Fake];

    /// <summary>Runtimes that run workspaces behind the Runtime Agent API.</summary>
    public static readonly IReadOnlyList<string> Workspace = [Docker, Kubernetes, Fake];
}
