using Harness.Agent.Execution;
using Harness.Agent.Tests.Fakes;
using Harness.Runtimes.Devices;
using Microsoft.Extensions.DependencyInjection;

namespace Harness.Agent.Tests;

public sealed class HarnessAgentHostTests : IDisposable
{
    private readonly TempStateDir _state = new();

    public void Dispose() => _state.Dispose();

    [Fact]
    public void Host_TakesItsDeviceAdapterFromConfigureServices_AndDisposesItSynchronously()
    {
        var adapter = new FakeDeviceAdapter();
        var host = HarnessAgentHost.Build(new AgentHostSettings
        {
            Configuration = new()
            {
                ["Agent:Name"] = "PC-01",
                ["Agent:StateDir"] = _state.Path,
                ["Agent:Devices:Adapter"] = "simulator",
                ["Agent:Devices:MaxConcurrency"] = "7",
            },
            ConfigureServices = s => s.AddDeviceAdapter(_ => adapter),
        });

        Assert.Same(adapter, host.Services.GetRequiredService<IDeviceAdapter>());
        Assert.Equal(7, host.Services.GetRequiredService<DeviceScheduler>().FreeSlots);
        host.Dispose(); // the CLI disposes its host with `using`: an async-only adapter must not break that
    }
}
