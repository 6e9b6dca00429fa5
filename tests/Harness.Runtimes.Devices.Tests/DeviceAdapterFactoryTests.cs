using Harness.Runtimes.Devices.Adb;
using Harness.Runtimes.Devices.Simulator;
using Harness.Runtimes.Devices.VendorWs;
using Microsoft.Extensions.Logging.Abstractions;

namespace Harness.Runtimes.Devices.Tests;

public sealed class DeviceAdapterFactoryTests
{
    [Theory]
    [InlineData("vendor-ws", typeof(VendorWsAdapter))]
    [InlineData("adb", typeof(AdbAdapter))]
    [InlineData("simulator", typeof(SimulatorAdapter))]
    public async Task Create_BuildsTheNamedAdapter(string name, Type expected)
    {
        await using var adapter = DeviceAdapterFactory.Create(new DeviceAdapterOptions { Adapter = name }, NullLoggerFactory.Instance, TimeProvider.System);

        Assert.IsType(expected, adapter);
        Assert.Equal(name, adapter.Name);
    }

    [Fact]
    public async Task Create_Simulator_HasTheConfiguredDevices()
    {
        await using var adapter = DeviceAdapterFactory.Create(new DeviceAdapterOptions { Adapter = "simulator", SimulatorDevices = 3 }, NullLoggerFactory.Instance, TimeProvider.System);

        Assert.Equal(3, (await adapter.ListAsync(default)).Count);
    }

    [Fact]
    public void Create_WithBadOptions_ListsEveryError()
    {
        var options = new DeviceAdapterOptions { Adapter = "usb", VendorUrl = "http://x", AdbPort = 0, RequestTimeoutMs = 0 };

        var error = Assert.Throws<ArgumentException>(() => DeviceAdapterFactory.Create(options, NullLoggerFactory.Instance, TimeProvider.System));

        foreach (var key in new[] { "Devices:Adapter", "Devices:VendorUrl", "Devices:AdbPort", "Devices:RequestTimeoutMs" })
        {
            Assert.Contains(key, error.Message, StringComparison.Ordinal);
        }
    }
}
