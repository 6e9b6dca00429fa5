namespace Harness.Runtimes.Devices.Simulator;

public sealed class SimulatedFarmOptions
{
    /// <summary>How many devices: <c>SIM-0001</c> … <c>SIM-NNNN</c>.</summary>
    public int Devices { get; set; } = 20;

    /// <summary>What serials start with (<c>SIM</c>): give each simulated farm of a fleet its own, as real serials differ.</summary>
    public string SerialPrefix { get; set; } = DefaultPrefix;

    public const string DefaultPrefix = "SIM";

    /// <summary>Same seed, same farm: models and screen colours derive from it.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Every Nth device is an emulator (0: none).</summary>
    public int EmulatorEvery { get; set; } = 5;

    /// <summary>How long a reboot or an emulator start keeps a device booting.</summary>
    public TimeSpan BootTime { get; set; } = TimeSpan.Zero;

    /// <summary>Faults per serial at start; change them later with <see cref="SimulatedFarm.SetFaults"/>.</summary>
    public IDictionary<string, DeviceFaults> Faults { get; } = new Dictionary<string, DeviceFaults>(StringComparer.Ordinal);

    public static string SerialOf(int index, string prefix = DefaultPrefix) => $"{prefix}-{index:D4}";
}
