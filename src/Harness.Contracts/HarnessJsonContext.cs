using System.Text.Json;
using System.Text.Json.Serialization;
using Harness.Contracts.Agents;
using Harness.Contracts.Dashboard;
using Harness.Contracts.Devices;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Jobs;
using Harness.Contracts.Nodes;
using Harness.Contracts.Runs;
using Harness.Contracts.Runtime;
using Harness.Contracts.Tokens;
using Harness.Contracts.Workflows;
using Harness.Contracts.Workspaces;

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
[JsonSerializable(typeof(InstanceStartRequest))]
[JsonSerializable(typeof(InstanceStatus))]
[JsonSerializable(typeof(InstanceList))]
[JsonSerializable(typeof(UpstreamResponse))]
[JsonSerializable(typeof(VolumeInfo))]
[JsonSerializable(typeof(VolumeList))]
[JsonSerializable(typeof(VolumeExistsResponse))]
[JsonSerializable(typeof(ArchiveJobRequest))]
[JsonSerializable(typeof(ArchiveJobResult))]
[JsonSerializable(typeof(RuntimeHealth))]
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
[JsonSerializable(typeof(WorkflowDefinition))]
[JsonSerializable(typeof(WorkflowCreatedResponse))]
[JsonSerializable(typeof(IReadOnlyList<WorkflowView>))]
[JsonSerializable(typeof(IReadOnlyList<WorkflowVersionView>))]
[JsonSerializable(typeof(WorkflowVersionView))]
[JsonSerializable(typeof(CommandAssetRequest))]
[JsonSerializable(typeof(CommandAssetView))]
[JsonSerializable(typeof(IReadOnlyList<CommandAssetView>))]
[JsonSerializable(typeof(PlaybookRequest))]
[JsonSerializable(typeof(PlaybookView))]
[JsonSerializable(typeof(IReadOnlyList<PlaybookView>))]
[JsonSerializable(typeof(PlaybookCompileRequest))]
[JsonSerializable(typeof(PlaybookCompileResponse))]
[JsonSerializable(typeof(CreateRunRequest))]
[JsonSerializable(typeof(RunCreatedResponse))]
[JsonSerializable(typeof(Page<RunSummary>))]
[JsonSerializable(typeof(RunDetail))]
[JsonSerializable(typeof(ArtifactView))]
[JsonSerializable(typeof(PullRequest))]
[JsonSerializable(typeof(PullResponse))]
[JsonSerializable(typeof(ReleaseRequest))]
[JsonSerializable(typeof(ReleaseResponse))]
[JsonSerializable(typeof(CallbackBatch))]
[JsonSerializable(typeof(CallbackEvent))]
[JsonSerializable(typeof(CallbackResponse))]
[JsonSerializable(typeof(ScanRequest))]
[JsonSerializable(typeof(ScanJobView))]
[JsonSerializable(typeof(IReadOnlyList<ScanJobView>))]
[JsonSerializable(typeof(DashboardResponse))]
[JsonSerializable(typeof(CreateWorkspaceRequest))]
[JsonSerializable(typeof(RestoreWorkspaceRequest))]
[JsonSerializable(typeof(WorkspaceView))]
[JsonSerializable(typeof(Page<WorkspaceView>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(CreateJobRequest))]
[JsonSerializable(typeof(JobDetail))]
[JsonSerializable(typeof(JobLogLine))]
[JsonSerializable(typeof(ClaimJobsRequest))]
[JsonSerializable(typeof(ClaimJobsResponse))]
[JsonSerializable(typeof(JobEventsRequest))]
[JsonSerializable(typeof(JobEventsResponse))]
[JsonSerializable(typeof(CompleteJobRequest))]
public sealed partial class HarnessJsonContext : JsonSerializerContext;
