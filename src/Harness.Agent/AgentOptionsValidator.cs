using Microsoft.Extensions.Options;

namespace Harness.Agent;

/// <summary>Lists every configuration error at start-up, not only the first.</summary>
internal sealed class AgentOptionsValidator : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(options.ServerUrl, UriKind.Absolute, out var server) || server.Scheme is not ("http" or "https"))
        {
            errors.Add($"Agent:ServerUrl: '{options.ServerUrl}' is not an http(s) URL (HARNESS_SERVER_URL).");
        }
        if (string.IsNullOrWhiteSpace(options.Name))
        {
            errors.Add("Agent:Name: required (HARNESS_AGENT_NAME).");
        }
        if (string.IsNullOrWhiteSpace(options.StateDir))
        {
            errors.Add("Agent:StateDir: required (HARNESS_AGENT_STATE_DIR).");
        }
        if (options.HeartbeatIntervalSec is <= 0 or > 3600)
        {
            errors.Add($"Agent:HeartbeatIntervalSec: {options.HeartbeatIntervalSec} is out of range (0, 3600].");
        }
        if (options.BackoffInitialSec <= 0 || options.BackoffMaxSec < options.BackoffInitialSec)
        {
            errors.Add("Agent:BackoffInitialSec/BackoffMaxSec: need 0 < initial <= max.");
        }
        if (options.RequestTimeoutSec is <= 0 or > 600)
        {
            errors.Add($"Agent:RequestTimeoutSec: {options.RequestTimeoutSec} is out of range (0, 600].");
        }
        if (options.Capacity < 0)
        {
            errors.Add("Agent:Capacity: must not be negative.");
        }
        ValidateDevices(options, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateDevices(AgentOptions options, List<string> errors)
    {
        var d = options.Devices;
        if (!DevicesOptions.Adapters.Contains(d.Adapter, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"Agent:Devices:Adapter: '{d.Adapter}' is not one of {string.Join(", ", DevicesOptions.Adapters)} (HARNESS_DEVICE_ADAPTER).");
        }
        if (!d.Enabled && options.Runtimes.Contains("devices", StringComparer.OrdinalIgnoreCase))
        {
            errors.Add("Agent:Devices:Adapter: required when Agent:Runtimes lists 'devices' (HARNESS_DEVICE_ADAPTER=vendor-ws|adb|simulator).");
        }
        if (string.Equals(d.Adapter, "vendor-ws", StringComparison.OrdinalIgnoreCase)
            && (!Uri.TryCreate(d.VendorUrl, UriKind.Absolute, out var ws) || ws.Scheme is not ("ws" or "wss")))
        {
            errors.Add($"Agent:Devices:VendorUrl: '{d.VendorUrl}' is not a ws(s) URL (VENDOR_WS_URL).");
        }
        if (string.IsNullOrWhiteSpace(d.AdbHost))
        {
            errors.Add("Agent:Devices:AdbHost: required.");
        }
        Range(errors, "AdbPort", d.AdbPort, 1, 65535);
        Range(errors, "SimulatorDevices", d.SimulatorDevices, 0, 10000);
        Range(errors, "MaxConcurrency", d.MaxConcurrency, 1, 1000, " (MAX_CONCURRENCY_PER_NODE)");
        Range(errors, "GraceWaitMs", d.GraceWaitMs, 0, 600_000, " (DEVICE_GRACE_WAIT_MS)");
        Range(errors, "PreflightTimeoutMs", d.PreflightTimeoutMs, 100, 600_000);
        Range(errors, "EmulatorBootTimeoutMs", d.EmulatorBootTimeoutMs, 0, 1_800_000);
        Range(errors, "ProbeIntervalSec", d.ProbeIntervalSec, 1, 86_400);
        Range(errors, "QuarantineAfterFailures", d.QuarantineAfterFailures, 1, 1000);
        Range(errors, "PullWaitMs", d.PullWaitMs, 0, 30_000);
        Range(errors, "UploadParallelism", d.UploadParallelism, 1, 64);
        if (d.PullWaitMs >= options.RequestTimeoutSec * 1000)
        {
            errors.Add($"Agent:Devices:PullWaitMs: {d.PullWaitMs} must be shorter than Agent:RequestTimeoutSec ({options.RequestTimeoutSec}s).");
        }
    }

    private static void Range(List<string> errors, string key, int value, int min, int max, string alias = "")
    {
        if (value < min || value > max)
        {
            errors.Add($"Agent:Devices:{key}: {value} is out of range [{min}, {max}]{alias}.");
        }
    }
}
