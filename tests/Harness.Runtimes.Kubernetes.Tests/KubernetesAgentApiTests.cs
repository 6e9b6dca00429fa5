using System.Net;
using Harness.Agent;
using Harness.Agent.Workspaces;
using Harness.Client;
using Harness.Contracts.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Harness.Runtimes.Kubernetes.Tests;

/// <summary>
/// A real agent serving the Runtime Agent API over the kubernetes runtime, called with the one client
/// the server uses for every backend: the Kubernetes agent needs no server code.
/// </summary>
public sealed class KubernetesAgentApiTests : IAsyncLifetime
{
    private const string Key = "runtime-key-for-tests-0123456789";
    private KubernetesRuntimeFixture _fixture = null!;
    private IHost _host = null!;
    private HttpClient _http = null!;
    private RuntimeAgentClient _client = null!;
    private string _state = null!;

    public async Task InitializeAsync()
    {
        _fixture = await KubernetesRuntimeFixture.StartAsync();
        _state = Directory.CreateTempSubdirectory("harness-k8s-agent-").FullName;
        _host = HarnessAgentHost.Build(new AgentHostSettings
        {
            Configuration = new()
            {
                ["Agent:ServerUrl"] = "http://127.0.0.1:9",
                ["Agent:Name"] = KubernetesRuntimeFixture.Agent,
                ["Agent:ApiKey"] = "hk_unused",
                ["Agent:StateDir"] = _state,
                ["Agent:Workspaces:Runtime"] = "kubernetes",
                ["Agent:Workspaces:Listen"] = "http://127.0.0.1:0",
                ["Agent:Workspaces:Kubernetes:ApiServerUrl"] = _fixture.Api.Url.ToString(),
                ["Agent:Workspaces:Kubernetes:Namespace"] = KubernetesRuntimeFixture.Namespace,
                ["Agent:Workspaces:Kubernetes:ArchiveDir"] = _fixture.ArchiveDir,
                ["Agent:Workspaces:Kubernetes:PollInterval"] = "00:00:00.010",
                ["Agent:Workspaces:Kubernetes:StartTimeout"] = "00:00:05",
            },
        });
        await _host.StartAsync();
        var state = _host.Services.GetRequiredService<RuntimeApiState>();
        state.Set(Key);
        _http = new HttpClient { BaseAddress = state.Endpoint };
        _client = new RuntimeAgentClient(_http, state.Endpoint!, Key);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.StopAsync();
        _host.Dispose();
        await _fixture.DisposeAsync();
        Directory.Delete(_state, recursive: true);
    }

    [Fact]
    public async Task RuntimeAgentApi_OverKubernetes_RunsAWorkspaceLifecycle()
    {
        var ct = CancellationToken.None;
        Assert.Equal(("ok", "kubernetes"), ((await _client.GetHealthAsync(ct)).Status, (await _client.GetHealthAsync(ct)).Runtime));

        await _client.CreateVolumeAsync("ws1", ct);
        var started = await _client.StartInstanceAsync("ws1", new InstanceStartRequest(KubernetesRuntimeFixture.Image, Port: 3000), ct);
        Assert.Equal(InstanceState.Running, started.State);
        Assert.Equal("http://harness-ws-ws1.harness.svc.cluster.local:3000", (await _client.GetUpstreamAsync("ws1", ct)).Url);
        Assert.Equal(["ws1"], (await _client.ListInstancesAsync(null, ct)).Instances.Select(i => i.WorkspaceId));

        var inUse = await Assert.ThrowsAsync<HarnessApiException>(() => _client.DeleteVolumeAsync("ws1", ct));
        Assert.Equal(HttpStatusCode.Conflict, inUse.Status);
        var missingImage = await Assert.ThrowsAsync<HarnessApiException>(() =>
            _client.StartInstanceAsync("ws2", new InstanceStartRequest("no-such-image:1"), ct));
        Assert.Equal(HttpStatusCode.NotFound, missingImage.Status); // ws2 has no volume yet

        await _client.CreateVolumeAsync("ws2", ct);
        var pullFailure = await Assert.ThrowsAsync<HarnessApiException>(() =>
            _client.StartInstanceAsync("ws2", new InstanceStartRequest("no-such-image:1"), ct));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, pullFailure.Status);

        Assert.True(await _client.DeleteInstanceAsync("ws1", ct));
        Assert.True(await _client.DeleteVolumeAsync("ws1", ct));
        Assert.False((await _client.VolumeExistsAsync("ws1", ct)).Exists);
    }

    [Fact]
    public async Task Health_WhenTheApiServerIsDown_IsDegradedAndCallsAre503()
    {
        await _fixture.Api.StopAsync();

        var health = await Assert.ThrowsAsync<HarnessApiException>(() => _client.GetHealthAsync(CancellationToken.None));
        var list = await Assert.ThrowsAsync<HarnessApiException>(() => _client.ListVolumesAsync(CancellationToken.None));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.Status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, list.Status);
    }
}
