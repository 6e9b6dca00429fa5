using Harness.Runtimes.Tests.Conformance;

namespace Harness.Runtimes.Kubernetes.Tests;

/// <summary>
/// The kubernetes runtime against the conformance suite, on the fake API server. Archive and restore
/// run for real (the fake executes the jobs' tar scripts); the instances' HTTP does not (no kubelet runs
/// containers here), so the upstream is checked for its form only.
/// </summary>
public sealed class KubernetesRuntimeConformanceTests : WorkspaceRuntimeConformance, IDisposable
{
    private KubernetesRuntimeFixture? _fixture;

    protected override string Image => KubernetesRuntimeFixture.Image;

    protected override bool ServesHttp => false;

    protected override async Task<IWorkspaceRuntime> CreateRuntimeAsync()
    {
        // The same fake API server for every runtime of a test, as a restarted agent finds the same cluster.
        _fixture ??= await KubernetesRuntimeFixture.StartAsync();
        return _fixture.Runtime();
    }

    public void Dispose()
    {
        // After the suite's own cleanup (IAsyncLifetime.DisposeAsync runs first).
        _fixture?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
