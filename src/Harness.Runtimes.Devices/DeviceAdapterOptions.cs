namespace Harness.Runtimes.Devices;

/// <summary>Which backend drives the devices and how to reach it (agent config section <c>Devices</c>).</summary>
public sealed class DeviceAdapterOptions
{
    public const string VendorWsAdapter = "vendor-ws";
    public const string AdbAdapter = "adb";
    public const string SimulatorAdapter = "simulator";

    /// <summary><c>vendor-ws</c> (default), <c>adb</c> or <c>simulator</c>.</summary>
    public string Adapter { get; set; } = VendorWsAdapter;

    public string VendorUrl { get; set; } = "ws://127.0.0.1:22222";

    public string AdbHost { get; set; } = "127.0.0.1";

    public int AdbPort { get; set; } = 5037;

    /// <summary>How many devices the in-process simulator has.</summary>
    public int SimulatorDevices { get; set; } = 20;

    public int SimulatorSeed { get; set; } = 1;

    /// <summary>How long one command may take before the device counts as not responding.</summary>
    public int RequestTimeoutMs { get; set; } = 30_000;

    /// <summary>Every problem with these options, for a start-up error that lists them all.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Adapter is not (VendorWsAdapter or AdbAdapter or SimulatorAdapter))
        {
            errors.Add($"Devices:Adapter: '{Adapter}' is not one of {VendorWsAdapter}, {AdbAdapter}, {SimulatorAdapter}.");
        }
        if (!Uri.TryCreate(VendorUrl, UriKind.Absolute, out var url) || url.Scheme is not ("ws" or "wss"))
        {
            errors.Add($"Devices:VendorUrl: '{VendorUrl}' is not a ws:// or wss:// URL.");
        }
        if (string.IsNullOrWhiteSpace(AdbHost))
        {
            errors.Add("Devices:AdbHost: required.");
        }
        if (AdbPort is < 1 or > 65535)
        {
            errors.Add($"Devices:AdbPort: {AdbPort} is not a TCP port (1-65535).");
        }
        if (SimulatorDevices is < 0 or > 9999)
        {
            errors.Add($"Devices:SimulatorDevices: {SimulatorDevices} must be between 0 and 9999.");
        }
        if (RequestTimeoutMs < 1)
        {
            errors.Add($"Devices:RequestTimeoutMs: {RequestTimeoutMs} must be at least 1.");
        }
        return errors;
    }
}
