using Harness.Runtimes.Devices.Simulator;

namespace Harness.Runtimes.Devices.Tests.Conformance;

/// <summary>The farm every conformance test starts from: 12 devices, a few of them broken on purpose.</summary>
internal static class ConformanceFarm
{
    public const string Ready = "SIM-0001";
    public const string Offline = "SIM-0002";
    public const string Unresponsive = "SIM-0003";
    public const string Failing = "SIM-0004";
    public const string Emulator = "SIM-0005";
    public const string Unknown = "SIM-9999";
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(3);

    public static SimulatedFarm Create()
    {
        var options = new SimulatedFarmOptions { Devices = 12, Seed = 7, EmulatorEvery = 5 };
        options.Faults[Offline] = new DeviceFaults { Offline = true };
        options.Faults[Unresponsive] = new DeviceFaults { Unresponsive = true };
        options.Faults[Failing] = new DeviceFaults { Failing = true };
        return new SimulatedFarm(options);
    }

    /// <summary>Devices with no fault: SIM-0001 and SIM-0005 … SIM-0012.</summary>
    public static IEnumerable<string> Healthy(SimulatedFarm farm) =>
        farm.Serials.Where(s => s is not (Offline or Unresponsive or Failing));
}
