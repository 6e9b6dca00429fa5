namespace Harness.Agent;

/// <summary>The <c>devices</c> runtime, bound from <c>Agent:Devices</c>. See docs/agent.md.</summary>
public sealed class DevicesOptions
{
    public const string None = "none";

    public static readonly IReadOnlyList<string> Adapters = [None, "vendor-ws", "adb", "simulator"];

    /// <summary><c>none</c> (no devices runtime), <c>vendor-ws</c>, <c>adb</c> or <c>simulator</c> (HARNESS_DEVICE_ADAPTER).</summary>
    public string Adapter { get; set; } = None;

    /// <summary>The vendor WebSocket (VENDOR_WS_URL).</summary>
    public string VendorUrl { get; set; } = "ws://127.0.0.1:22222";

    public string AdbHost { get; set; } = "127.0.0.1";

    public int AdbPort { get; set; } = 5037;

    /// <summary>How many devices the simulator adapter pretends to drive.</summary>
    public int SimulatorDevices { get; set; } = 10;

    /// <summary>Tasks running at once on this node (MAX_CONCURRENCY_PER_NODE).</summary>
    public int MaxConcurrency { get; set; } = 20;

    /// <summary>How long an unresponsive device may take to recover before its task fails (DEVICE_GRACE_WAIT_MS).</summary>
    public int GraceWaitMs { get; set; } = 15000;

    /// <summary>Budget of gate 2, the device preflight before every task.</summary>
    public int PreflightTimeoutMs { get; set; } = 15000;

    /// <summary>How long gate 1 waits for a started or restarted emulator to answer.</summary>
    public int EmulatorBootTimeoutMs { get; set; } = 60000;

    /// <summary>How often idle devices are probed (and the vendor connection checked).</summary>
    public int ProbeIntervalSec { get; set; } = 30;

    /// <summary>Failed probes in a row that take a device out of scheduling.</summary>
    public int QuarantineAfterFailures { get; set; } = 3;

    /// <summary>How long one pull waits on the server for work.</summary>
    public int PullWaitMs { get; set; } = 20000;

    /// <summary>Artifact uploads in flight at once.</summary>
    public int UploadParallelism { get; set; } = 4;

    /// <summary>
    /// On SIGTERM, how long running tasks may go on to finish before they are stopped and reported
    /// failed (<c>agent_shutdown</c>). Keep it below the host's shutdown timeout
    /// (HostOptions:ShutdownTimeout, 30 s by default) so the final reports still go out.
    /// </summary>
    public int ShutdownDrainSec { get; set; } = 20;

    public bool Enabled => !string.Equals(Adapter, None, StringComparison.OrdinalIgnoreCase);
}
