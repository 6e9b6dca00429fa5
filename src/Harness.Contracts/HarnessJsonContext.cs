using System.Text.Json;
using System.Text.Json.Serialization;
using Harness.Contracts.Agents;
using Harness.Contracts.Devices;
using Harness.Contracts.Jobs;
using Harness.Contracts.Nodes;
using Harness.Contracts.Tokens;

namespace Harness.Contracts;

/// <summary>
/// The wire format: snake_case names, ISO-8601 times, enums as strings. Server, agent and CLI
/// all serialize through this context so the three can never disagree.
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(ReadinessResponse))]
[JsonSerializable(typeof(RegisterAgentRequest))]
[JsonSerializable(typeof(AgentCredentialResponse))]
[JsonSerializable(typeof(AgentView))]
[JsonSerializable(typeof(IReadOnlyList<AgentView>))]
[JsonSerializable(typeof(EnrollRequest))]
[JsonSerializable(typeof(HeartbeatRequest))]
[JsonSerializable(typeof(HeartbeatResponse))]
[JsonSerializable(typeof(NodeStatusResponse))]
[JsonSerializable(typeof(DeviceView))]
[JsonSerializable(typeof(IReadOnlyList<DeviceView>))]
[JsonSerializable(typeof(List<DeviceView>))]
[JsonSerializable(typeof(UpdateDeviceRequest))]
[JsonSerializable(typeof(Page<JobView>))]
[JsonSerializable(typeof(CreateTokenRequest))]
[JsonSerializable(typeof(TokenCreatedResponse))]
[JsonSerializable(typeof(IReadOnlyList<TokenView>))]
public sealed partial class HarnessJsonContext : JsonSerializerContext;
