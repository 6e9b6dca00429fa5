using Harness.Contracts.Runtime;
using Harness.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Harness.Runtimes.Docker.Tests;

/// <summary>
/// A test's view of the Docker runtime on the real engine: its own agent name (so listings see only its
/// resources), workspace ids unique to it, and everything it made removed when it ends.
/// </summary>
public abstract class DockerRuntimeTestBase(DockerEngine engine) : IClassFixture<DockerEngine>, IAsyncLifetime
{
    private readonly List<DockerWorkspaceRuntime> _runtimes = [];
    private readonly List<string> _workspaces = [];

    protected DockerEngine Engine { get; } = engine;

    protected string AgentName { get; } = $"test-{Guid.NewGuid().ToString("N")[..8]}";

    protected static CancellationToken Ct => TestContext.Ct;

    /// <summary>A runtime in host network mode on 127.0.0.1 (the private engine has no bridge).</summary>
    protected DockerWorkspaceRuntime NewRuntime(string? agentName = null, string? endpoint = null)
    {
        var runtime = new DockerWorkspaceRuntime(Options.Create(new DockerRuntimeOptions
        {
            Endpoint = endpoint ?? Engine.Endpoint,
            AgentName = agentName ?? AgentName,
            NetworkMode = DockerNetworkMode.Host,
            PublishHost = "127.0.0.1",
            StopTimeoutSec = 2,
            ReadyTimeoutMs = 10_000,
        }), NullLogger<DockerWorkspaceRuntime>.Instance, TimeProvider.System);
        _runtimes.Add(runtime);
        return runtime;
    }

    protected string NewWorkspaceId()
    {
        var id = $"t-{Guid.NewGuid().ToString("N")[..12]}";
        _workspaces.Add(id);
        return id;
    }

    protected static InstanceSpec HttpSpec(ResourceLimits? resources = null, string image = DockerEngine.HttpImage) =>
        new(image, InstanceSpec.DefaultPort, new Dictionary<string, string>(), InstanceSpec.DefaultMountPath, resources ?? new ResourceLimits());

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        var cleaner = NewRuntime();
        foreach (var id in _workspaces)
        {
            await cleaner.DeleteInstanceAsync(id, CancellationToken.None);
            await cleaner.DeleteVolumeAsync(id, CancellationToken.None);
        }
        foreach (var runtime in _runtimes)
        {
            runtime.Dispose();
        }
    }
}

internal static class DockerRuntimeTestImages
{
    /// <summary>Any image the engine has will do for a helper that is never started.</summary>
    public const string Helper = DockerEngine.HttpImage;
}

internal static class TestContext
{
    /// <summary>No single runtime call of these tests should need more than this.</summary>
    public static CancellationToken Ct => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;
}
