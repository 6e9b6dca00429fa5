using Harness.DeviceSim;
using Harness.Runtimes.Devices.VendorWs;
using Microsoft.Extensions.Logging.Abstractions;

namespace Harness.Runtimes.Devices.Tests.Conformance;

public sealed class VendorWsAdapterConformanceTests : DeviceAdapterConformanceTests
{
    private DeviceSimServer? _server;

    protected override async Task<IDeviceAdapter> StartAsync()
    {
        _server = new DeviceSimServer(Farm, new DeviceSimServerOptions { WsUrl = "ws://127.0.0.1:0" });
        await _server.StartAsync(CancellationToken.None);
        return new VendorWsAdapter(_server.WsUrl, ConformanceFarm.RequestTimeout, NullLogger<VendorWsAdapter>.Instance, TimeProvider.System);
    }

    protected override IDeviceAdapter? CreateWithBackendDown() =>
        new VendorWsAdapter(new Uri($"ws://127.0.0.1:{FreePort.Next()}"), ConformanceFarm.RequestTimeout, NullLogger<VendorWsAdapter>.Instance, TimeProvider.System);

    protected override async Task StopAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
