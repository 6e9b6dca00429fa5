namespace Harness.Agent;

/// <summary>The agent's settings, bound from the <c>Agent</c> configuration section.</summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    /// <summary>Base URL of <c>harness server</c> (HARNESS_SERVER_URL).</summary>
    public string ServerUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>This agent's name, the seeds' node_id (HARNESS_AGENT_NAME); defaults to the host name.</summary>
    public string Name { get; set; } = Environment.MachineName;

    /// <summary>The agent's API key (HARNESS_AGENT_KEY). Without it, the key saved in <see cref="StateDir"/> is used.</summary>
    public string? ApiKey { get; set; }

    /// <summary>NODE_AGENT_SHARED_SECRET: enroll with it when there is no key yet.</summary>
    public string? EnrollmentSecret { get; set; }

    /// <summary>Where the agent keeps its key and its outbox. HARNESS_AGENT_STATE_DIR.</summary>
    public string StateDir { get; set; } = "agent-state";

    public double HeartbeatIntervalSec { get; set; } = 10;

    public double BackoffInitialSec { get; set; } = 1;

    public double BackoffMaxSec { get; set; } = 60;

    public int Capacity { get; set; } = 20;

    public string? Region { get; set; }

    public Dictionary<string, string> Labels { get; set; } = [];

    public List<string> Runtimes { get; set; } = [];

    /// <summary>Per-request timeout for calls to the server.</summary>
    public double RequestTimeoutSec { get; set; } = 30;

    /// <summary>
    /// On SIGTERM, how long the agent has in all to stop (the host's shutdown timeout): hand back
    /// unstarted tasks, drain running ones (<see cref="DevicesOptions.ShutdownDrainSec"/>), flush the
    /// outbox. HARNESS_SHUTDOWN_TIMEOUT_SEC.
    /// </summary>
    public double ShutdownTimeoutSec { get; set; } = 30;

    /// <summary>The <c>devices</c> runtime (<c>Agent:Devices</c>).</summary>
    public DevicesOptions Devices { get; set; } = new();

    /// <summary>Where undelivered callbacks and artifacts wait: <c>{StateDir}/outbox</c>.</summary>
    public string OutboxDir => Path.Combine(StateDir, "outbox");
}
