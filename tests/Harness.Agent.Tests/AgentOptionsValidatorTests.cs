using Harness.Agent.Execution;
using Harness.Agent.Inventory;
using Harness.Agent.Listener;
using Harness.Agent.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Tests;

public sealed class AgentOptionsValidatorTests : IDisposable
{
    private readonly TempStateDir _state = new();

    public void Dispose() => _state.Dispose();

    [Fact]
    public void Validate_ListsEveryDevicesError_WithTheKeyAndItsEnvironmentVariable()
    {
        var options = new AgentOptions
        {
            Runtimes = ["devices"],
            Devices = { Adapter = "bluetooth", MaxConcurrency = 0, GraceWaitMs = -1, PullWaitMs = 45000, QuarantineAfterFailures = 0 },
        };

        var result = new AgentOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var errors = result.Failures!.ToList();
        Assert.Contains(errors, e => e.StartsWith("Agent:Devices:Adapter: 'bluetooth'", StringComparison.Ordinal) && e.Contains("HARNESS_DEVICE_ADAPTER", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:Devices:MaxConcurrency", StringComparison.Ordinal) && e.Contains("MAX_CONCURRENCY_PER_NODE", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:Devices:GraceWaitMs", StringComparison.Ordinal) && e.Contains("DEVICE_GRACE_WAIT_MS", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:Devices:PullWaitMs", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:Devices:QuarantineAfterFailures", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_DefaultsAreValid()
    {
        Assert.True(new AgentOptionsValidator().Validate(null, new AgentOptions()).Succeeded);
        Assert.True(new AgentOptionsValidator().Validate(null, new AgentOptions { Devices = { Adapter = "vendor-ws" } }).Succeeded);
    }

    [Fact]
    public void EnvironmentAliases_MapTheDocumentedVariables()
    {
        Assert.Equal("Agent:Devices:MaxConcurrency", AgentEnvironmentAliases.Map["MAX_CONCURRENCY_PER_NODE"]);
        Assert.Equal("Agent:Devices:GraceWaitMs", AgentEnvironmentAliases.Map["DEVICE_GRACE_WAIT_MS"]);
        Assert.Equal("Agent:Devices:Adapter", AgentEnvironmentAliases.Map["HARNESS_DEVICE_ADAPTER"]);
        Assert.Equal("Agent:Devices:VendorUrl", AgentEnvironmentAliases.Map["VENDOR_WS_URL"]);
    }

    private ServiceProvider Build(string adapter, Action<IServiceCollection>? configure = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:Name"] = "PC-01",
            ["Agent:StateDir"] = _state.Path,
            ["Agent:Devices:Adapter"] = adapter,
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHarnessAgent(configuration);
        configure?.Invoke(services);
        return services.BuildServiceProvider();
    }

    [Theory]
    [InlineData("adb", typeof(Harness.Runtimes.Devices.Adb.AdbAdapter))]
    [InlineData("vendor-ws", typeof(Harness.Runtimes.Devices.VendorWs.VendorWsAdapter))]
    [InlineData("simulator", typeof(Harness.Runtimes.Devices.Simulator.SimulatorAdapter))]
    public async Task DevicesRuntime_WithoutARegisteredAdapter_UsesTheOneItsOptionsName(string adapter, Type expected)
    {
        await using var services = Build(adapter);

        var created = services.GetRequiredService<Harness.Runtimes.Devices.IDeviceAdapter>();

        Assert.IsType(expected, created);
    }

    [Fact]
    public async Task DevicesRuntime_WithAnAdapter_RegistersItsLoopsAndInventory_AndReportsTheRuntime()
    {
        await using var services = Build("simulator", s => s.AddDeviceAdapter(_ => new FakeDeviceAdapter()));

        var hosted = services.GetServices<IHostedService>().Select(h => h.GetType()).ToList();

        Assert.Equal([typeof(OutboxSender), typeof(DeviceScheduler), typeof(DeviceProbeLoop), typeof(PullLoop), typeof(HeartbeatLoop)], hosted);
        Assert.IsType<DevicesInventory>(services.GetRequiredService<IDeviceInventory>());
        Assert.IsType<FileOutbox>(services.GetRequiredService<IOutbox>());
        Assert.Contains("devices", services.GetRequiredService<IOptions<AgentOptions>>().Value.Runtimes);
    }

    [Fact]
    public void NoDevicesRuntime_KeepsTheAgentLean()
    {
        using var services = Build("none");

        Assert.Equal([typeof(HeartbeatLoop)], services.GetServices<IHostedService>().Select(h => h.GetType()));
        Assert.IsType<NoDeviceInventory>(services.GetRequiredService<IDeviceInventory>());
    }
}
