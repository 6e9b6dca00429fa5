namespace Harness.Contracts;

/// <summary>Every HTTP route the server exposes, so clients never spell a path twice.</summary>
public static class Routes
{
    public const string Health = "/health";
    public const string HealthLive = "/health/live";
    public const string HealthReady = "/health/ready";
    public const string Metrics = "/metrics";
    public const string Jobs = "/jobs";
    public const string ApiJobs = "/api/jobs";
    public const string OpenApiDocument = "/openapi/v1.json";
    public const string ApiReference = "/docs/api";

    public const string Agents = "/api/agents";
    public const string Tokens = "/api/tokens";
    public const string Devices = "/api/devices";

    public const string NodesEnroll = "/api/nodes/enroll";
    public const string NodesHeartbeat = "/api/nodes/heartbeat";
    public const string NodesStatus = "/api/nodes/status";
    public const string NodesPull = "/api/nodes/pull";
    public const string NodesRelease = "/api/nodes/release";
    public const string NodesCallback = "/api/nodes/callback";
    public const string NodesArtifacts = "/api/nodes/artifacts";
    public const string NodesScan = "/api/nodes/scan";
    public const string NodesJobs = "/api/nodes/jobs";
    public const string NodesJobsClaim = "/api/nodes/jobs/claim";

    public const string Workflows = "/api/workflows";
    public const string WorkflowSchema = "/api/workflows/schema";
    public const string CommandAssets = "/api/command-assets";
    public const string Playbooks = "/api/playbooks";
    public const string Runs = "/api/runs";
    public const string Artifacts = "/api/artifacts";
    public const string Dashboard = "/api/dashboard";
    public const string Workspaces = "/api/workspaces";

    /// <summary>Header an agent may use instead of <c>Authorization: Bearer</c>.</summary>
    public const string NodeAuthHeader = "X-Node-Auth";
}
