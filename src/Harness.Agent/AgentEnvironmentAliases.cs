namespace Harness.Agent;

/// <summary>The agent's documented environment variables, mapped onto <c>Agent:*</c> configuration keys.</summary>
public static class AgentEnvironmentAliases
{
    public static readonly IReadOnlyDictionary<string, string> Map = new Dictionary<string, string>
    {
        ["HARNESS_SERVER_URL"] = "Agent:ServerUrl",
        ["HARNESS_AGENT_NAME"] = "Agent:Name",
        ["HARNESS_AGENT_KEY"] = "Agent:ApiKey",
        ["HARNESS_AGENT_STATE_DIR"] = "Agent:StateDir",
        ["NODE_AGENT_SHARED_SECRET"] = "Agent:EnrollmentSecret",
        ["HARNESS_DEVICE_ADAPTER"] = "Agent:Devices:Adapter",
        ["VENDOR_WS_URL"] = "Agent:Devices:VendorUrl",
        ["MAX_CONCURRENCY_PER_NODE"] = "Agent:Devices:MaxConcurrency",
        ["DEVICE_GRACE_WAIT_MS"] = "Agent:Devices:GraceWaitMs",
        ["HARNESS_SHUTDOWN_DRAIN_SEC"] = "Agent:Devices:ShutdownDrainSec",
        ["HARNESS_SHUTDOWN_TIMEOUT_SEC"] = "Agent:ShutdownTimeoutSec",
        ["HARNESS_WORKSPACE_RUNTIME"] = "Agent:Workspaces:Runtime",
        ["HARNESS_RUNTIME_LISTEN"] = "Agent:Workspaces:Listen",
        ["HARNESS_RUNTIME_ADVERTISE_URL"] = "Agent:Workspaces:AdvertiseUrl",
        ["HARNESS_WORKSPACE_CAPACITY"] = "Agent:Workspaces:Capacity",
        ["HARNESS_SANDBOX_BACKEND"] = "Agent:Sandbox:Backend",
        ["HARNESS_SANDBOX_CAPACITY"] = "Agent:Sandbox:Capacity",
        ["HARNESS_SANDBOX_CREDENTIALS_DIR"] = "Agent:Sandbox:CredentialsDirectory",
        ["HARNESS_SANDBOX_SSH_AGENT_SOCKET"] = "Agent:Sandbox:SshAgentSocket",
    };

    public static IEnumerable<KeyValuePair<string, string?>> Read() =>
        Map.Select(m => (m.Value, Environment.GetEnvironmentVariable(m.Key)))
            .Where(p => !string.IsNullOrEmpty(p.Item2))
            .Select(p => new KeyValuePair<string, string?>(p.Value, p.Item2));
}
