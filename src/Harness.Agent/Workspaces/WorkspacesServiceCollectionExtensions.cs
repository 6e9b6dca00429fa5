using Harness.Runtimes;
using Harness.Runtimes.Docker;
using Harness.Runtimes.Fake;
using Microsoft.Extensions.Configuration;
using Harness.Client;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Workspaces;

public static class WorkspacesServiceCollectionExtensions
{
    /// <summary>
    /// The workspace runtime named by <c>Agent:Workspaces:Runtime</c> and the Runtime Agent API over it.
    /// A host may register its own <see cref="IWorkspaceRuntime"/> first; it is then used instead.
    /// </summary>
    public static IServiceCollection AddHarnessWorkspaces(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(WorkspacesOptions.Section);
        services.AddOptions<WorkspacesOptions>().Bind(section);
        var runtime = (section[nameof(WorkspacesOptions.Runtime)] ?? WorkspacesOptions.None).Trim().ToLowerInvariant();
        switch (runtime)
        {
            case FakeWorkspaceRuntime.RuntimeName:
                services.AddFakeWorkspaceRuntime(section.GetSection("Fake"));
                break;
            case "docker":
                services.AddDockerWorkspaceRuntime(section.GetSection("Docker"));
                // Containers and volumes are labelled with the agent's name, so a restarted agent finds its own.
                services.PostConfigure<DockerRuntimeOptions>(o =>
                {
                    if (section.GetSection("Docker")["AgentName"] is null && configuration["Agent:Name"] is { Length: > 0 } name)
                    {
                        o.AgentName = name.ToLowerInvariant();
                    }
                });
                break;
            case "kubernetes":
                // The harness.agent label defaults to the agent's name, which a Deployment must pin (HARNESS_AGENT_NAME).
                services.AddKubernetesWorkspaceRuntime(section.GetSection("Kubernetes"), o =>
                {
                    if (string.IsNullOrEmpty(o.AgentName))
                    {
                        o.AgentName = configuration["Agent:Name"] ?? Environment.MachineName;
                    }
                });
                break;
            default:
                throw new InvalidOperationException(
                    $"Agent:Workspaces:Runtime: '{runtime}' is not a workspace runtime; use none, {FakeWorkspaceRuntime.RuntimeName}, docker, kubernetes");
        }
        // Archives move whole volumes: their transfers are bounded by the job's cancellation (the server's
        // ArchiveTimeoutSec), not by the per-request timeout of heartbeats and callbacks.
        services.AddHttpClient(ArchiveTransfer.HttpClientName, (sp, http) =>
        {
            http.BaseAddress = new Uri(sp.GetRequiredService<IOptions<AgentOptions>>().Value.ServerUrl);
            http.Timeout = Timeout.InfiniteTimeSpan;
        });
        services.TryAddSingleton(sp => ActivatorUtilities.CreateInstance<ArchiveTransfer>(sp,
            new HarnessNodeClient(sp.GetRequiredService<IHttpClientFactory>().CreateClient(ArchiveTransfer.HttpClientName))));
        services.TryAddSingleton<RuntimeApiServer>();
        services.AddHostedService(sp => sp.GetRequiredService<RuntimeApiServer>());
        services.PostConfigure<AgentOptions>(o =>
        {
            if (!o.Runtimes.Contains(runtime, StringComparer.OrdinalIgnoreCase))
            {
                o.Runtimes.Add(runtime);
            }
        });
        return services;
    }

    public static bool IsWorkspacesRuntimeEnabled(IConfiguration configuration) =>
        new WorkspacesOptions { Runtime = configuration[$"{WorkspacesOptions.Section}:Runtime"] ?? WorkspacesOptions.None }.Enabled;
}
