using System.Text.Json.Serialization;

namespace Harness.Contracts.Runtime;

// The Runtime Agent API (DESIGN §6): what the server asks of any agent that runs workspaces,
// whatever backend (Docker, Kubernetes, the fake) sits behind it. docs/runtime-agent-api.yaml
// is the committed OpenAPI document of exactly these records and RuntimeRoutes.

/// <summary><c>POST /instances/{workspace_id}/start</c>: run the workspace's image with its volume mounted.</summary>
public sealed record InstanceStartRequest(
    string? Image,
    /// <summary>The port the image serves on inside the instance; the upstream reaches it. Default 8080.</summary>
    int? Port = null,
    IReadOnlyDictionary<string, string>? Env = null,
    /// <summary>Where the workspace volume is mounted inside the instance. Default <c>/workspace</c>.</summary>
    string? MountPath = null,
    ResourceLimits? Resources = null);

/// <summary>Per-workspace limits; absent means the runtime's defaults.</summary>
public sealed record ResourceLimits(double? Cpu = null, int? MemoryMb = null, int? Pids = null);

[JsonConverter(typeof(JsonStringEnumConverter<InstanceState>))]
public enum InstanceState
{
    /// <summary>Created, not yet serving (image pulling, pod pending, container starting).</summary>
    [JsonStringEnumMemberName("starting")] Starting,
    [JsonStringEnumMemberName("running")] Running,
    /// <summary>Exited or stopped; the instance exists but serves nothing.</summary>
    [JsonStringEnumMemberName("stopped")] Stopped,
    /// <summary>Failed: crashed, could not start, or the backend reports an error.</summary>
    [JsonStringEnumMemberName("error")] Error,
    /// <summary>No instance: never started, or deleted.</summary>
    [JsonStringEnumMemberName("not_found")] NotFound,
}

public sealed record InstanceStatus(
    string WorkspaceId,
    InstanceState State,
    string? Image = null,
    /// <summary>Where the instance serves, e.g. <c>http://127.0.0.1:49153</c>; only while running.</summary>
    string? Upstream = null,
    string? Message = null,
    DateTimeOffset? StartedAt = null);

public sealed record InstanceList(IReadOnlyList<InstanceStatus> Instances);

public sealed record UpstreamResponse(string WorkspaceId, string Url);

public sealed record VolumeInfo(string WorkspaceId, string Name, DateTimeOffset? CreatedAt = null);

public sealed record VolumeList(IReadOnlyList<VolumeInfo> Volumes);

public sealed record VolumeExistsResponse(string WorkspaceId, bool Exists);

/// <summary>
/// <c>POST /jobs/archive</c> and <c>POST /jobs/restore</c>. The archive is the volume as a tar.gz;
/// the agent uploads it to (or downloads it from) the server's artifact store as
/// <c>/api/nodes/archives/{archive_id}</c>, with its own agent key. The call returns when the job ended.
/// </summary>
public sealed record ArchiveJobRequest(string? WorkspaceId, string? ArchiveId);

public sealed record ArchiveJobResult(
    string WorkspaceId,
    string ArchiveId,
    string Status,
    long? Bytes = null,
    string? Sha256 = null,
    DateTimeOffset? StartedAt = null,
    DateTimeOffset? FinishedAt = null);

/// <summary><c>GET /health</c> of an agent's Runtime API.</summary>
public sealed record RuntimeHealth(
    string Status,
    string Runtime,
    string AgentName,
    string Version,
    int Instances,
    int Capacity,
    string? Message = null);

public static class RuntimeHealthStatus
{
    public const string Ok = "ok";
    /// <summary>The agent answers but its backend (engine, API server) does not.</summary>
    public const string Degraded = "degraded";
}

public static class ArchiveJobStatus
{
    public const string Succeeded = "succeeded";
}

/// <summary>Paths of the Runtime Agent API, served by the agent (not the server).</summary>
public static class RuntimeRoutes
{
    public const string Instances = "/instances";
    public const string Volumes = "/volumes";
    public const string ArchiveJobs = "/jobs/archive";
    public const string RestoreJobs = "/jobs/restore";
    public const string Health = "/health";
    public const string OpenApiDocument = "/openapi/v1.json";

    public static string Instance(string workspaceId) => $"{Instances}/{Uri.EscapeDataString(workspaceId)}";
    public static string InstanceStart(string workspaceId) => $"{Instance(workspaceId)}/start";
    public static string InstanceStatus(string workspaceId) => $"{Instance(workspaceId)}/status";
    public static string InstanceUpstream(string workspaceId) => $"{Instance(workspaceId)}/upstream";
    public static string Volume(string workspaceId) => $"{Volumes}/{Uri.EscapeDataString(workspaceId)}";
    public static string VolumeExists(string workspaceId) => $"{Volume(workspaceId)}/exists";

    /// <summary>Where an agent uploads and downloads workspace archives on the server.</summary>
    public const string NodeArchives = "/api/nodes/archives";
    public static string NodeArchive(string archiveId) => $"{NodeArchives}/{Uri.EscapeDataString(archiveId)}";
}
