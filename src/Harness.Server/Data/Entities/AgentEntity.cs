namespace Harness.Server.Data.Entities;

/// <summary>An agent process: a farm PC (a "node"), a Docker host, or an agent next to a cluster.</summary>
public sealed class AgentEntity
{
    public Guid Id { get; set; }
    /// <summary>The node_id the seeds speak of, e.g. <c>PC-01</c>. Unique.</summary>
    public required string Name { get; set; }
    public string? Endpoint { get; set; }
    /// <summary>Public half of the API key; the row is found by it.</summary>
    public required string ApiKeyId { get; set; }
    /// <summary>SHA-256 of the secret half; compared in constant time.</summary>
    public required byte[] ApiKeyHash { get; set; }
    public DateTimeOffset? KeyRevokedAt { get; set; }
    /// <summary>Comma-separated runtime names (devices, docker, kubernetes, sandbox).</summary>
    public string Runtimes { get; set; } = "";
    public required string Status { get; set; }
    public int Capacity { get; set; }
    public int CurrentLoad { get; set; }
    public string? Region { get; set; }
    /// <summary>JSON object of string labels.</summary>
    public string Labels { get; set; } = "{}";
    public DateTimeOffset? LastSeen { get; set; }
    /// <summary>Last time the agent's Runtime API answered GET /health.</summary>
    public DateTimeOffset? LastHealthAt { get; set; }
    /// <summary>Health checks failed in a row; the next check waits longer with each.</summary>
    public int ConsecutiveHealthFailures { get; set; }
    /// <summary>When the health checker next probes the agent (null: at once).</summary>
    public DateTimeOffset? NextHealthAt { get; set; }
    public string? Version { get; set; }
    public bool? VendorWsOk { get; set; }
    public string? LastErrorMessage { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
