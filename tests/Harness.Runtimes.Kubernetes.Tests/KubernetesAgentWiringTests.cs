using Harness.Agent.Workspaces;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Harness.Runtimes.Kubernetes.Tests;

/// <summary>The agent serves the kubernetes runtime when HARNESS_WORKSPACE_RUNTIME (Agent:Workspaces:Runtime) says so.</summary>
public sealed class KubernetesAgentWiringTests
{
    [Fact]
    public void AddHarnessWorkspaces_KubernetesRuntime_ServesItWithTheAgentsNameAsLabel()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:Name"] = "k8s-agent-7",
            ["Agent:Workspaces:Runtime"] = "kubernetes",
            ["Agent:Workspaces:Kubernetes:Namespace"] = "workspaces",
            ["Agent:Workspaces:Kubernetes:ApiServerUrl"] = "http://127.0.0.1:1",
        }).Build();
        var services = new ServiceCollection().AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));

        services.AddHarnessWorkspaces(configuration);
        using var provider = services.BuildServiceProvider();

        Assert.IsType<KubernetesWorkspaceRuntime>(provider.GetRequiredService<IWorkspaceRuntime>());
        var options = provider.GetRequiredService<IOptions<KubernetesRuntimeOptions>>().Value;
        Assert.Equal(("k8s-agent-7", "workspaces"), (options.AgentName, options.Namespace));
    }
}
