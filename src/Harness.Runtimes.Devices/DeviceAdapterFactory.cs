using Harness.Runtimes.Devices.Adb;
using Harness.Runtimes.Devices.Simulator;
using Harness.Runtimes.Devices.VendorWs;
using Microsoft.Extensions.Logging;

namespace Harness.Runtimes.Devices;

public static class DeviceAdapterFactory
{
    /// <summary>Builds the adapter the options name; throws listing every option error.</summary>
    public static IDeviceAdapter Create(DeviceAdapterOptions options, ILoggerFactory loggerFactory, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid device adapter options:\n  " + string.Join("\n  ", errors), nameof(options));
        }
        var timeout = TimeSpan.FromMilliseconds(options.RequestTimeoutMs);
        return options.Adapter switch
        {
            DeviceAdapterOptions.AdbAdapter => new AdbAdapter(options.AdbHost, options.AdbPort, timeout, loggerFactory.CreateLogger<AdbAdapter>(), timeProvider),
            DeviceAdapterOptions.SimulatorAdapter => new SimulatorAdapter(
                new SimulatedFarm(new SimulatedFarmOptions { Devices = options.SimulatorDevices, Seed = options.SimulatorSeed }, timeProvider), timeout),
            _ => new VendorWsAdapter(new Uri(options.VendorUrl), timeout, loggerFactory.CreateLogger<VendorWsAdapter>(), timeProvider),
        };
    }
}
