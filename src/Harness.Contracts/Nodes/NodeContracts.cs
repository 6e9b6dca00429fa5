using System.Text.Json.Serialization;

namespace Harness.Contracts.Nodes;

/// <summary>
/// <c>POST /api/nodes/enroll</c> with <c>Authorization: Bearer &lt;NODE_AGENT_SHARED_SECRET&gt;</c>:
/// a new agent enrolls itself once and receives its own key.
/// </summary>
public sealed record EnrollRequest(
    string? Name,
    IReadOnlyList<string>? Runtimes = null,
    int? Capacity = null,
    string? Region = null,
    IReadOnlyDictionary<string, string>? Labels = null,
    string? Endpoint = null,
    string? Version = null);

/// <summary><c>POST /api/nodes/heartbeat</c>: the agent's state and its device inventory.</summary>
public sealed record HeartbeatRequest(
    string? Version = null,
    bool? VendorWsOk = null,
    int? CurrentLoad = null,
    int? Capacity = null,
    IReadOnlyList<string>? Runtimes = null,
    string? Endpoint = null,
    IReadOnlyList<DeviceReport>? Devices = null,
    string? Region = null,
    IReadOnlyDictionary<string, string>? Labels = null);

/// <summary>One device as the agent sees it right now.</summary>
public sealed record DeviceReport(
    string? DeviceId,
    string? RuntimeHandle = null,
    string? Model = null,
    DeviceState? State = null,
    string? Label = null,
    string? Error = null,
    /// <summary>The agent took the device out of scheduling: it keeps failing its probes.</summary>
    bool? Quarantined = null);

/// <summary>What the vendor, adb or the simulator says of a device; not the fleet's Online/Offline.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DeviceState>))]
public enum DeviceState
{
    [JsonStringEnumMemberName("ready")] Ready,
    [JsonStringEnumMemberName("busy")] Busy,
    [JsonStringEnumMemberName("booting")] Booting,
    [JsonStringEnumMemberName("unauthorized")] Unauthorized,
    [JsonStringEnumMemberName("offline")] Offline,
    [JsonStringEnumMemberName("error")] Error,
}

public sealed record HeartbeatResponse(
    Guid AgentId,
    string NodeId,
    DateTimeOffset ServerTime,
    int OnlineWindowSec,
    int DevicesAccepted,
    /// <summary>
    /// The key the server presents on this agent's Runtime Agent API (<c>Authorization: Bearer</c>).
    /// Derived per agent from the server's runtime secret; the agent accepts no other.
    /// </summary>
    string? RuntimeKey = null);

/// <summary><c>GET /api/nodes/status</c>: every device by index_no, Online or Offline.</summary>
public sealed record NodeStatusResponse(
    int Total,
    int Online,
    int Offline,
    int OnlineWindowSec,
    IReadOnlyList<DeviceStatusView> Devices);

public sealed record DeviceStatusView(
    int? IndexNo,
    string DeviceId,
    string NodeId,
    string? RuntimeHandle,
    string? Model,
    string? Label,
    string Status,
    string? State,
    DateTimeOffset? LastSeen,
    string? LastErrorMessage,
    DateTimeOffset? QuarantinedAt = null);

public static class OnlineStatus
{
    public const string Online = "Online";
    public const string Offline = "Offline";
}
