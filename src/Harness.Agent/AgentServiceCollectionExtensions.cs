using Harness.Agent.Inventory;
using Harness.Agent.Listener;
using Harness.Agent.Sandbox;
using Harness.Agent.Workspaces;
using Harness.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Harness.Agent;

public static class AgentServiceCollectionExtensions
{
    public static IServiceCollection AddHarnessAgent(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AgentOptions>().Bind(configuration.GetSection(AgentOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<AgentStatus>();
        services.AddAgentTelemetry(configuration);
        services.PostConfigure<AgentOptions>(o =>
        {
            // An agent that drives devices says so in its heartbeats.
            if (o.Devices.Enabled && !o.Runtimes.Contains("devices", StringComparer.OrdinalIgnoreCase))
            {
                o.Runtimes.Add("devices");
            }
        });
        if (IsDevicesRuntimeEnabled(configuration))
        {
            services.AddHarnessDevicesRuntime();
        }
        services.TryAddSingleton<IDeviceInventory, NoDeviceInventory>();
        services.TryAddSingleton<AgentCredentials>();
        services.TryAddSingleton<RuntimeApiState>();
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            return new Backoff(TimeSpan.FromSeconds(o.BackoffInitialSec), TimeSpan.FromSeconds(o.BackoffMaxSec), Random.Shared);
        });
        services.AddHttpClient<HarnessNodeClient>((sp, http) =>
        {
            var o = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            http.BaseAddress = new Uri(o.ServerUrl);
            http.Timeout = TimeSpan.FromSeconds(o.RequestTimeoutSec);
        });
        // The typed client is transient by default; one instance serves the singletons that use it.
        services.Replace(ServiceDescriptor.Singleton(sp =>
            new HarnessNodeClient(sp.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(HarnessNodeClient)))));
        // Before the heartbeat loop: the first heartbeat already carries the Runtime API's endpoint.
        if (WorkspacesServiceCollectionExtensions.IsWorkspacesRuntimeEnabled(configuration))
        {
            services.AddHarnessWorkspaces(configuration);
        }
        // Also before the heartbeat loop: it decides whether the agent offers the sandbox runtime at all.
        if (SandboxServiceCollectionExtensions.IsSandboxRuntimeEnabled(configuration))
        {
            services.AddHarnessSandbox(configuration);
        }
        services.AddHostedService<HeartbeatLoop>();
        return services;
    }

    /// <summary>Agent:Devices:Adapter (HARNESS_DEVICE_ADAPTER) names a backend other than <c>none</c>.</summary>
    public static bool IsDevicesRuntimeEnabled(IConfiguration configuration) =>
        new DevicesOptions { Adapter = configuration[$"{AgentOptions.Section}:Devices:Adapter"] ?? DevicesOptions.None }.Enabled;
}
