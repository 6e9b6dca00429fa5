using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Harness.Runtimes.Fake;

public static class FakeRuntimeServiceCollectionExtensions
{
    /// <summary>Registers the fake runtime as the agent's <see cref="IWorkspaceRuntime"/>, bound from <paramref name="section"/>.</summary>
    public static IServiceCollection AddFakeWorkspaceRuntime(this IServiceCollection services, IConfiguration section)
    {
        services.AddOptions<FakeRuntimeOptions>().Bind(section);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<FakeWorkspaceRuntime>();
        services.TryAddSingleton<IWorkspaceRuntime>(sp => sp.GetRequiredService<FakeWorkspaceRuntime>());
        return services;
    }
}
