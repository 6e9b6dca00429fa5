using Harness.Runtimes.Kubernetes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

public static class KubernetesRuntimeServiceCollectionExtensions
{
    /// <summary>
    /// The kubernetes runtime as <see cref="Harness.Runtimes.IWorkspaceRuntime"/>, its options bound from
    /// <paramref name="configuration"/> (the <c>Agent:Workspaces:Kubernetes</c> section) and then <paramref name="configure"/>,
    /// validated at start-up.
    /// </summary>
    public static IServiceCollection AddKubernetesWorkspaceRuntime(
        this IServiceCollection services,
        IConfiguration? configuration = null,
        Action<KubernetesRuntimeOptions>? configure = null)
    {
        var options = services.AddOptions<KubernetesRuntimeOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration);
        }
        if (configure is not null)
        {
            options.Configure(configure);
        }
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KubernetesRuntimeOptions>, KubernetesRuntimeOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<KubernetesWorkspaceRuntime>();
        services.TryAddSingleton<Harness.Runtimes.IWorkspaceRuntime>(sp => sp.GetRequiredService<KubernetesWorkspaceRuntime>());
        return services;
    }
}
