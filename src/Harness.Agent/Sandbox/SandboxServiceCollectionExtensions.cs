using Harness.Runtimes.Sandbox;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Sandbox;

public static class SandboxServiceCollectionExtensions
{
    public const string Section = "Agent:Sandbox";

    /// <summary>Agent:Sandbox:Backend (HARNESS_SANDBOX_BACKEND) names a backend other than <c>none</c>.</summary>
    public static bool IsSandboxRuntimeEnabled(IConfiguration configuration) =>
        !string.Equals((configuration[$"{Section}:Backend"] ?? SandboxBackendNames.None).Trim(), SandboxBackendNames.None, StringComparison.OrdinalIgnoreCase);

    /// <summary>The sandbox runtime: its options, both backends, and the loop that claims and runs jobs.</summary>
    public static IServiceCollection AddHarnessSandbox(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSandboxRuntime(configuration.GetSection(Section));
        services.AddOptions<SandboxOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SandboxOptions>, SandboxOptionsValidator>());
        services.TryAddSingleton<SandboxJobLoop>();
        services.AddHostedService(sp => sp.GetRequiredService<SandboxJobLoop>());
        return services;
    }
}

internal sealed class SandboxOptionsValidator : IValidateOptions<SandboxOptions>
{
    public ValidateOptionsResult Validate(string? name, SandboxOptions options) =>
        options.Validate() is { Count: > 0 } errors ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
}
