using Harness.DeviceSim;
using Harness.Runtimes.Devices.Adb;
using Microsoft.Extensions.Logging.Abstractions;

namespace Harness.Runtimes.Devices.Tests.Conformance;

public sealed class AdbAdapterConformanceTests : DeviceAdapterConformanceTests
{
    private DeviceSimServer? _server;

    protected override async Task<IDeviceAdapter> StartAsync()
    {
        _server = new DeviceSimServer(Farm, new DeviceSimServerOptions { WsUrl = "ws://127.0.0.1:0", AdbPort = 0 });
        await _server.StartAsync(CancellationToken.None);
        return new AdbAdapter("127.0.0.1", _server.AdbPort!.Value, ConformanceFarm.RequestTimeout, NullLogger<AdbAdapter>.Instance, TimeProvider.System);
    }

    protected override IDeviceAdapter? CreateWithBackendDown() =>
        new AdbAdapter("127.0.0.1", FreePort.Next(), ConformanceFarm.RequestTimeout, NullLogger<AdbAdapter>.Instance, TimeProvider.System);

    protected override async Task StopAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
