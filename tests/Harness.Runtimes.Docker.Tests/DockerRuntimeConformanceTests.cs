using Harness.Runtimes.Tests.Conformance;
using Harness.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Harness.Runtimes.Docker.Tests;

/// <summary>The Docker runtime against the conformance suite, on the private engine in host network mode.</summary>
public sealed class DockerRuntimeConformanceTests(DockerEngine engine) : WorkspaceRuntimeConformance, IClassFixture<DockerEngine>
{
    // One agent name per test: the restart test's second runtime must see what the first made.
    private readonly string _agentName = $"conformance-{Guid.NewGuid().ToString("N")[..8]}";

    protected override string Image => DockerEngine.HttpImage;

    protected override Task<IWorkspaceRuntime> CreateRuntimeAsync() =>
        Task.FromResult<IWorkspaceRuntime>(new DockerWorkspaceRuntime(Options.Create(new DockerRuntimeOptions
        {
            Endpoint = engine.Endpoint,
            AgentName = _agentName,
            NetworkMode = DockerNetworkMode.Host,
            PublishHost = "127.0.0.1",
            StopTimeoutSec = 2,
        }), NullLogger<DockerWorkspaceRuntime>.Instance, TimeProvider.System));
}
