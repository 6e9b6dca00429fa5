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
    /// durable outbox. The <see cref="IDeviceAdapter"/> itself comes from the host: see <see cref="AddDeviceAdapter"/>.
    /// </summary>
    public static IServiceCollection AddHarnessDevicesRuntime(this IServiceCollection services)
    {
        services.TryAddSingleton<IDeviceAdapter>(sp => throw new AgentConfigurationException(
            $"Agent:Devices:Adapter is '{sp.GetRequiredService<IOptions<AgentOptions>>().Value.Devices.Adapter}' but the host registered no IDeviceAdapter: "
            + "call services.AddDeviceAdapter(sp => …) (AgentHostSettings.ConfigureServices), or set HARNESS_DEVICE_ADAPTER=none."));
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

    /// <summary>
    /// Registers the device backend, replacing any earlier registration. Call it after
    /// <see cref="AgentServiceCollectionExtensions.AddHarnessAgent"/>, e.g. from AgentHostSettings.ConfigureServices.
    /// </summary>
    public static IServiceCollection AddDeviceAdapter(this IServiceCollection services, Func<IServiceProvider, IDeviceAdapter> factory) =>
        services.Replace(ServiceDescriptor.Singleton(factory));
}
