using Harness.Runtimes.Devices.Simulator;

namespace Harness.Runtimes.Devices.Tests.Conformance;

public sealed class SimulatorAdapterConformanceTests : DeviceAdapterConformanceTests
{
    protected override Task<IDeviceAdapter> StartAsync() =>
        Task.FromResult<IDeviceAdapter>(new SimulatorAdapter(Farm, ConformanceFarm.RequestTimeout));

    protected override IDeviceAdapter? CreateWithBackendDown() => null;
}
