using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Harness.Runtimes.Docker;

public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="DockerWorkspaceRuntime"/> as the <see cref="IWorkspaceRuntime"/>, unless one is registered
    /// already. Configure <see cref="DockerRuntimeOptions"/> with <paramref name="configure"/>
    /// or bind them with the overload that takes a configuration section; the options are validated when the host starts.
    /// </summary>
    public static IServiceCollection AddDockerWorkspaceRuntime(this IServiceCollection services, Action<DockerRuntimeOptions>? configure = null)
    {
        var options = services.AddOptions<DockerRuntimeOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DockerRuntimeOptions>, DockerRuntimeOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DockerWorkspaceRuntime>();
        services.TryAddSingleton<IWorkspaceRuntime>(sp => sp.GetRequiredService<DockerWorkspaceRuntime>());
        return services;
    }

    /// <summary>As above, with the options bound from <paramref name="section"/> (the agent's <c>Agent:Workspaces:Docker</c>).</summary>
    public static IServiceCollection AddDockerWorkspaceRuntime(this IServiceCollection services, IConfiguration section)
    {
        services.AddOptions<DockerRuntimeOptions>().Bind(section);
        return services.AddDockerWorkspaceRuntime(configure: null);
    }
}
