using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Harness.Runtimes.Kubernetes.Tests;

public sealed class KubernetesRuntimeOptionsTests
{
    [Fact]
    public void Validate_ReportsEveryInvalidSettingWithItsKey()
    {
        var errors = KubernetesRuntimeOptionsValidator.Errors(new KubernetesRuntimeOptions
        {
            Namespace = "Not_A_Namespace",
            AgentName = "",
            VolumeSize = "lots",
            ArchiveDir = "relative/dir",
            ServiceType = "ExternalName",
            PollInterval = TimeSpan.Zero,
        });

        Assert.Equal(
        [
            "Agent:Workspaces:Kubernetes:Namespace",
            "Agent:Workspaces:Kubernetes:AgentName",
            "Agent:Workspaces:Kubernetes:VolumeSize",
            "Agent:Workspaces:Kubernetes:ArchiveDir",
            "Agent:Workspaces:Kubernetes:ServiceType",
            "Agent:Workspaces:Kubernetes:PollInterval",
        ], errors.Select(e => e[..e.IndexOf(": ", StringComparison.Ordinal)]));
    }

    [Fact]
    public void Validate_Defaults_WithAnAgentName_AreValid()
    {
        Assert.Empty(KubernetesRuntimeOptionsValidator.Errors(new KubernetesRuntimeOptions { AgentName = "k8s-agent-1" }));
    }

    [Fact]
    public void AddKubernetesWorkspaceRuntime_BindsTheAgentKubernetesSectionAndServesIWorkspaceRuntime()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:Workspaces:Kubernetes:AgentName"] = "k8s-agent-1",
            ["Agent:Workspaces:Kubernetes:Namespace"] = "workspaces",
            ["Agent:Workspaces:Kubernetes:UpstreamAddress"] = "ClusterIp",
            ["Agent:Workspaces:Kubernetes:StartTimeout"] = "00:00:05",
        }).Build();
        var services = new ServiceCollection().AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));

        services.AddKubernetesWorkspaceRuntime(configuration.GetSection(KubernetesRuntimeOptions.SectionName));
        using var provider = services.BuildServiceProvider();

        var runtime = provider.GetRequiredService<IWorkspaceRuntime>();
        Assert.Equal("kubernetes", runtime.Name);
        Assert.Same(provider.GetRequiredService<KubernetesWorkspaceRuntime>(), runtime);
        var options = provider.GetRequiredService<IOptions<KubernetesRuntimeOptions>>().Value;
        Assert.Equal(("workspaces", UpstreamAddress.ClusterIp, TimeSpan.FromSeconds(5)), (options.Namespace, options.UpstreamAddress, options.StartTimeout));
    }

    [Fact]
    public void AddKubernetesWorkspaceRuntime_KeepsAnIWorkspaceRuntimeRegisteredBefore()
    {
        var services = new ServiceCollection().AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddSingleton<IWorkspaceRuntime>(new FakeRuntimeMarker());

        services.AddKubernetesWorkspaceRuntime(configure: o => o.AgentName = "a");
        using var provider = services.BuildServiceProvider();

        Assert.IsType<FakeRuntimeMarker>(provider.GetRequiredService<IWorkspaceRuntime>());
    }

    [Fact]
    public void AddKubernetesWorkspaceRuntime_InvalidOptions_FailWithEveryError()
    {
        var services = new ServiceCollection().AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddKubernetesWorkspaceRuntime(configure: o => o.VolumeSize = "x");
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<KubernetesRuntimeOptions>>().Value);

        Assert.Contains(error.Failures, f => f.StartsWith("Agent:Workspaces:Kubernetes:AgentName", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("Agent:Workspaces:Kubernetes:VolumeSize", StringComparison.Ordinal));
    }

    /// <summary>Stands for a runtime a host registered first; never called.</summary>
    private sealed class FakeRuntimeMarker : IWorkspaceRuntime
    {
        public string Name => "marker";
        public Task<Contracts.Runtime.InstanceStatus> StartInstanceAsync(string workspaceId, InstanceSpec spec, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<bool> DeleteInstanceAsync(string workspaceId, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<Contracts.Runtime.InstanceStatus> GetInstanceAsync(string workspaceId, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IReadOnlyList<Contracts.Runtime.InstanceStatus>> ListInstancesAsync(string? prefix, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<Contracts.Runtime.VolumeInfo> CreateVolumeAsync(string workspaceId, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<bool> DeleteVolumeAsync(string workspaceId, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<Contracts.Runtime.VolumeInfo?> GetVolumeAsync(string workspaceId, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IReadOnlyList<Contracts.Runtime.VolumeInfo>> ListVolumesAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task ArchiveVolumeAsync(string workspaceId, Stream destination, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task RestoreVolumeAsync(string workspaceId, Stream source, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<RuntimeProbe> ProbeAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
