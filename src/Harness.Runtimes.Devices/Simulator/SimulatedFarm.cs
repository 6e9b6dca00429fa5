using System.Collections.Concurrent;
using Harness.Contracts.Nodes;

namespace Harness.Runtimes.Devices.Simulator;

/// <summary>
/// A farm of simulated Android devices with per-device fault injection. Thread-safe. Every
/// command is logged and counted in flight per device, so tests can check from the device's
/// side that nobody ran two things on it at once. Served in-process by
/// <see cref="SimulatorAdapter"/> and over the wire by <c>harness devicesim</c>.
/// </summary>
public sealed partial class SimulatedFarm
{
    private static readonly string[] PhoneModels = ["Pixel 7", "Pixel 8", "Pixel 6a", "SM-G991B", "SM-A546B", "Redmi Note 12", "moto g84", "CPH2451"];
    /// <summary>Screenshot size in pixels.</summary>
    public const int ScreenWidth = SimulatedDevice.ScreenWidth;
    public const int ScreenHeight = SimulatedDevice.ScreenHeight;

    private const string EmulatorModel = "sdk_gphone64_x86_64";

    private readonly Dictionary<string, SimulatedDevice> _devices;
    private readonly List<SimulatedDevice> _ordered;
    private readonly ConcurrentQueue<CommandLogEntry> _log = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _bootTime;

    public SimulatedFarm(SimulatedFarmOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Devices);
        _time = timeProvider ?? TimeProvider.System;
        _bootTime = options.BootTime;
        var random = new Random(options.Seed);
        _ordered = [];
        for (var i = 1; i <= options.Devices; i++)
        {
            var emulator = options.EmulatorEvery > 0 && i % options.EmulatorEvery == 0;
            var model = emulator ? EmulatorModel : PhoneModels[random.Next(PhoneModels.Length)];
            var colour = ((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
            _ordered.Add(new SimulatedDevice(SimulatedFarmOptions.SerialOf(i, options.SerialPrefix), model, emulator, colour));
        }
        _devices = _ordered.ToDictionary(d => d.Serial, StringComparer.Ordinal);
        foreach (var (serial, faults) in options.Faults)
        {
            SetFaults(serial, faults);
        }
    }

    public TimeProvider TimeProvider => _time;

    /// <summary>Serials in order: SIM-0001 first.</summary>
    public IReadOnlyList<string> Serials => [.. _ordered.Select(d => d.Serial)];

    /// <summary>Every command so far, in the order they finished.</summary>
    public IReadOnlyList<CommandLogEntry> CommandLog => [.. _log];

    public IReadOnlyList<DeviceInfo> List()
    {
        var now = _time.GetUtcNow();
        return [.. _ordered.Select(d =>
        {
            lock (d.Gate)
            {
                var state = d.StateAt(now);
                return new DeviceInfo(d.Serial, d.Serial, d.Model, state, d.IsEmulator, state == DeviceState.Offline ? "offline" : null);
            }
        })];
    }

    public DeviceFaults GetFaults(string serial)
    {
        var device = Find(serial);
        lock (device.Gate)
        {
            return device.Faults;
        }
    }

    /// <summary>Replaces a device's faults; takes effect for commands that start after this.</summary>
    public void SetFaults(string serial, DeviceFaults faults)
    {
        ArgumentNullException.ThrowIfNull(faults);
        var device = Find(serial);
        lock (device.Gate)
        {
            device.Faults = faults;
            device.CommandsSinceCrash = 0;
            if (faults.CrashAfterCommands is null)
            {
                device.CrashedUntil = DateTimeOffset.MinValue;
            }
        }
    }

    public SimulatedScreen Screen(string serial)
    {
        var device = Find(serial);
        lock (device.Gate)
        {
            return new SimulatedScreen(device.Foreground, device.Url, device.Typed, device.ScreenVersion);
        }
    }

    public int InFlightCommands(string serial) => Find(serial).InFlight;

    /// <summary>The most commands this device ever had running at the same time.</summary>
    public int MaxConcurrentCommands(string serial) => Find(serial).MaxInFlight;

    private SimulatedDevice Find(string serial) =>
        _devices.TryGetValue(serial, out var device)
            ? device
            : throw new DeviceException(DeviceErrorKind.NotFound, $"No device '{serial}' in this simulated farm (it has {_ordered.Count}: SIM-0001…).");
}
