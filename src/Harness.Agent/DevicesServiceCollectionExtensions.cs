using Harness.Agent.Execution;
using Harness.Agent.Inventory;
using Harness.Agent.Listener;
using Harness.Runtimes.Devices;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Harness.Agent;

public static class DevicesServiceCollectionExtensions
{
    /// <summary>
    /// The <c>devices</c> runtime: inventory, probes, scheduler, workflow runner, pull loop and the
    /// durable outbox. The <see cref="IDeviceAdapter"/> is the one <c>Agent:Devices:Adapter</c> names, unless the host registers its own with <see cref="AddDeviceAdapter"/>.
    /// </summary>
    public static IServiceCollection AddHarnessDevicesRuntime(this IServiceCollection services)
    {
        services.TryAddSingleton(CreateAdapter);
        services.TryAddSingleton<DeviceDirectory>();
        services.TryAddSingleton<DeviceHealth>();
        services.TryAddSingleton<DevicesInventory>();
        services.TryAddSingleton<IDeviceInventory>(sp => sp.GetRequiredService<DevicesInventory>());
        services.TryAddSingleton<FileOutbox>();
        services.TryAddSingleton<IOutbox>(sp => sp.GetRequiredService<FileOutbox>());
        services.TryAddSingleton<ITaskRunner, WorkflowRunner>();
        services.TryAddSingleton<DeviceScheduler>();
        services.TryAddSingleton<OutboxSender>();
        services.TryAddSingleton<DeviceProbeLoop>();
        services.TryAddSingleton<PullLoop>();
        // Hosts stop in reverse order: the pull loop stops taking work first, the outbox sender stops last.
        services.AddHostedService(sp => sp.GetRequiredService<OutboxSender>());
        services.AddHostedService(sp => sp.GetRequiredService<DeviceScheduler>());
        services.AddHostedService(sp => sp.GetRequiredService<DeviceProbeLoop>());
        services.AddHostedService(sp => sp.GetRequiredService<PullLoop>());
        return services;
    }

    /// <summary>The adapter <c>Agent:Devices:Adapter</c> names: the vendor WebSocket, adb, or an in-process simulator.</summary>
    private static IDeviceAdapter CreateAdapter(IServiceProvider services)
    {
        var devices = services.GetRequiredService<IOptions<AgentOptions>>().Value.Devices;
        var options = new DeviceAdapterOptions
        {
            Adapter = devices.Adapter.ToLowerInvariant(),
            VendorUrl = devices.VendorUrl,
            AdbHost = devices.AdbHost,
            AdbPort = devices.AdbPort,
            SimulatorDevices = devices.SimulatorDevices,
        };
        try
        {
            return DeviceAdapterFactory.Create(options, services.GetRequiredService<ILoggerFactory>(), services.GetRequiredService<TimeProvider>());
        }
        catch (ArgumentException e)
        {
            throw new AgentConfigurationException($"Agent:Devices: {e.Message}");
        }
    }

    /// <summary>
    /// Registers the device backend, replacing any earlier registration. Call it after
    /// <see cref="AgentServiceCollectionExtensions.AddHarnessAgent"/>, e.g. from AgentHostSettings.ConfigureServices.
    /// </summary>
    public static IServiceCollection AddDeviceAdapter(this IServiceCollection services, Func<IServiceProvider, IDeviceAdapter> factory) =>
        services.Replace(ServiceDescriptor.Singleton(factory));
}
