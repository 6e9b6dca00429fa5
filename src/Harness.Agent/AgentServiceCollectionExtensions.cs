using Harness.Agent.Inventory;
using Harness.Agent.Listener;
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
        services.TryAddSingleton<IDeviceInventory, NoDeviceInventory>();
        services.TryAddSingleton<AgentCredentials>();
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
        services.AddHostedService<HeartbeatLoop>();
        return services;
    }
}
