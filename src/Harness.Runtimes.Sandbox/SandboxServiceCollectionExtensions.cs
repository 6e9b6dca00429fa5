using Harness.Runtimes.Sandbox.Bubblewrap;
using Harness.Runtimes.Sandbox.Docker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Harness.Runtimes.Sandbox;

public static class SandboxServiceCollectionExtensions
{
    /// <summary>
    /// The sandbox runtime from <c>Agent:Sandbox</c>: <see cref="SandboxOptions"/>, every backend as a keyed
    /// <see cref="ISandboxBackend"/> (key = its <see cref="ISandboxBackend.Name"/>), the <see cref="SandboxBackendSelector"/>
    /// that picks the configured one, the chosen <see cref="ISandboxBackend"/> and <see cref="SandboxRunner"/>.
    /// </summary>
    public static IServiceCollection AddSandboxRuntime(this IServiceCollection services, IConfiguration section)
    {
        services.AddOptions<SandboxOptions>().Bind(section);
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<SandboxOptions>>().Value);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddKeyedSingleton<ISandboxBackend, DockerSandboxBackend>(SandboxBackendNames.Docker);
        services.TryAddKeyedSingleton<ISandboxBackend, BubblewrapSandboxBackend>(SandboxBackendNames.Bubblewrap);
        services.TryAddSingleton<SandboxBackendSelector>();
        // Resolving it when Backend is "none" throws: the agent checks SandboxOptions.Backend first.
        services.TryAddSingleton(sp => sp.GetRequiredService<SandboxBackendSelector>().SelectAsync(CancellationToken.None).GetAwaiter().GetResult());
        services.TryAddSingleton<SandboxRunner>();
        return services;
    }
}

/// <summary>
/// Picks the backend <c>Agent:Sandbox:Backend</c> names, checking that it can run here; for <c>auto</c>, Docker when its
/// engine answers, else bubblewrap.
/// </summary>
public sealed class SandboxBackendSelector(IServiceProvider services, SandboxOptions options)
{
    /// <summary>The order <c>auto</c> tries backends in.</summary>
    public static readonly IReadOnlyList<string> AutoOrder = [SandboxBackendNames.Docker, SandboxBackendNames.Bubblewrap];

    /// <summary>The backend, or null and why none can run (for the agent's start-up log).</summary>
    public async Task<(ISandboxBackend? Backend, string? Reason)> TrySelectAsync(CancellationToken cancellationToken)
    {
        var name = options.Backend.Trim().ToLowerInvariant();
        if (name == SandboxBackendNames.None)
        {
            return (null, "Agent:Sandbox:Backend is 'none': this agent runs no sandbox jobs.");
        }
        var candidates = name == SandboxBackendNames.Auto ? AutoOrder : [name];
        var reasons = new List<string>();
        foreach (var candidate in candidates)
        {
            if (services.GetKeyedService<ISandboxBackend>(candidate) is not { } backend)
            {
                reasons.Add($"'{candidate}': this build has no such backend");
                continue;
            }
            if (await backend.UnavailableReasonAsync(cancellationToken) is { } reason)
            {
                reasons.Add($"'{candidate}': {reason}");
                continue;
            }
            return (backend, null);
        }
        return (null, $"Agent:Sandbox:Backend '{name}': no backend can run here ({string.Join("; ", reasons)}).");
    }

    /// <summary>As <see cref="TrySelectAsync"/>, throwing when no backend can run.</summary>
    public async Task<ISandboxBackend> SelectAsync(CancellationToken cancellationToken)
    {
        var (backend, reason) = await TrySelectAsync(cancellationToken);
        return backend ?? throw new InvalidOperationException(reason);
    }
}
