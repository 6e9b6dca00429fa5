using System.Net;
using Harness.Contracts.Runtime;
using static Harness.Runtimes.Kubernetes.Tests.KubernetesRuntimeFixture;

namespace Harness.Runtimes.Kubernetes.Tests;

public sealed class KubernetesApiErrorTests : KubernetesRuntimeTestBase
{
    public static TheoryData<string> Calls => ["start", "delete", "get", "list", "create-volume", "delete-volume", "get-volume", "list-volumes", "archive", "restore"];

    [Theory]
    [MemberData(nameof(Calls))]
    public async Task EveryCall_WhenTheApiServerIsDown_IsUnavailable(string call)
    {
        await Api.StopAsync();

        var error = await Assert.ThrowsAsync<RuntimeException>(() => Invoke(call));

        Assert.Equal(RuntimeErrorKind.Unavailable, error.Kind);
        Assert.Contains("does not answer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_WhenTheApiServerAnswers_IsHealthyWithItsVersion()
    {
        var probe = await Runtime.ProbeAsync(Ct);

        Assert.True(probe.Healthy);
        Assert.Equal($"kubernetes {Harness.Testing.Kubernetes.FakeKubernetesApiServer.GitVersion}, namespace harness", probe.Message);
        Assert.Equal("GET /version/", Assert.Single(Api.Requests).ToString());
    }

    [Fact]
    public async Task Probe_WhenTheApiServerIsDown_IsUnhealthyAndRecoversWhenItIsBack()
    {
        await Api.StopAsync();

        var down = await Runtime.ProbeAsync(Ct);
        Assert.False(down.Healthy);
        Assert.Contains("does not answer", down.Message, StringComparison.Ordinal);

        await Api.RestartAsync();
        Assert.True((await Runtime.ProbeAsync(Ct)).Healthy);
    }

    [Theory]
    [InlineData(HttpStatusCode.Forbidden, RuntimeErrorKind.Failed, "check the agent's ServiceAccount, Role and RoleBinding")]
    [InlineData(HttpStatusCode.ServiceUnavailable, RuntimeErrorKind.Unavailable, "fake API server answers 503")]
    [InlineData(HttpStatusCode.InternalServerError, RuntimeErrorKind.Failed, "fake API server answers 500")]
    public async Task ApiServerErrors_BecomeRuntimeErrorsWithTheStatusMessage(HttpStatusCode status, RuntimeErrorKind kind, string message)
    {
        Api.FailAllRequests = status;

        var error = await Assert.ThrowsAsync<RuntimeException>(() => Runtime.ListVolumesAsync(Ct));

        Assert.Equal(kind, error.Kind);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateVolume_InANamespaceThatDoesNotExist_IsNotFoundWithTheApiServersMessage()
    {
        var runtime = Fixture.Runtime(configure: o => o.Namespace = "missing");

        var error = await Assert.ThrowsAsync<RuntimeException>(() => runtime.CreateVolumeAsync("ws1", Ct));

        Assert.Equal(RuntimeErrorKind.NotFound, error.Kind);
        Assert.Contains("namespaces \"missing\" not found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateVolume_RejectedAsInvalidByTheApiServer_IsInvalidWithItsMessage()
    {
        // Options are validated at start-up; built by hand here, an invalid label value reaches the API server.
        var runtime = Fixture.Runtime(agent: "not a label value");

        var error = await Assert.ThrowsAsync<RuntimeException>(() => runtime.CreateVolumeAsync("ws1", Ct));

        Assert.Equal(RuntimeErrorKind.Invalid, error.Kind);
        Assert.Contains("PersistentVolumeClaim \"harness-vol-ws1\" is invalid: metadata.labels: Invalid value: \"not a label value\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Calls_WithAnInvalidId_AreInvalidWithoutTouchingTheApi()
    {
        var error = await Assert.ThrowsAsync<RuntimeException>(() => Runtime.CreateVolumeAsync("UPPER", Ct));

        Assert.Equal(RuntimeErrorKind.Invalid, error.Kind);
        Assert.Contains(WorkspaceIds.Rule, error.Message, StringComparison.Ordinal);
        Assert.Empty(Api.Requests);
    }

    private Task Invoke(string call) => call switch
    {
        "start" => Runtime.StartInstanceAsync("ws1", Spec(), Ct),
        "delete" => Runtime.DeleteInstanceAsync("ws1", Ct),
        "get" => Runtime.GetInstanceAsync("ws1", Ct),
        "list" => Runtime.ListInstancesAsync(null, Ct),
        "create-volume" => Runtime.CreateVolumeAsync("ws1", Ct),
        "delete-volume" => Runtime.DeleteVolumeAsync("ws1", Ct),
        "get-volume" => Runtime.GetVolumeAsync("ws1", Ct),
        "list-volumes" => Runtime.ListVolumesAsync(Ct),
        "archive" => Runtime.ArchiveVolumeAsync("ws1", new MemoryStream(), Ct),
        "restore" => Runtime.RestoreVolumeAsync("ws1", new MemoryStream(), Ct),
        _ => throw new ArgumentOutOfRangeException(nameof(call)),
    };
}
