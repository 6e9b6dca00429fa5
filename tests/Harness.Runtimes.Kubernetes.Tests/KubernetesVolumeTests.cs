using static Harness.Runtimes.Kubernetes.Tests.KubernetesRuntimeFixture;

namespace Harness.Runtimes.Kubernetes.Tests;

public sealed class KubernetesVolumeTests : KubernetesRuntimeTestBase
{
    [Fact]
    public async Task CreateVolume_CreatesALabelledPvcOfTheConfiguredSizeAndClass()
    {
        var runtime = Fixture.Runtime(configure: o => (o.StorageClass, o.VolumeSize) = ("fast-ssd", "5Gi"));

        var volume = await runtime.CreateVolumeAsync("ws1", Ct);

        Assert.Equal(("ws1", "harness-vol-ws1"), (volume.WorkspaceId, volume.Name));
        Assert.NotNull(volume.CreatedAt);
        var claim = Api.Get("persistentvolumeclaims", Namespace, "harness-vol-ws1")!;
        KubernetesInstanceTests.AssertLabels(claim, "ws1", "volume");
        Assert.Equal("5Gi", claim["spec"]!["resources"]!["requests"]!["storage"]!.GetValue<string>());
        Assert.Equal("fast-ssd", claim["spec"]!["storageClassName"]!.GetValue<string>());
        Assert.Equal(["ReadWriteOnce"], claim["spec"]!["accessModes"]!.AsArray().Select(m => m!.GetValue<string>()));
    }

    [Fact]
    public async Task CreateVolume_Twice_ReturnsTheExistingOneOnAlreadyExists()
    {
        var first = await Runtime.CreateVolumeAsync("ws1", Ct);
        Api.ClearRequests();

        var second = await Runtime.CreateVolumeAsync("ws1", Ct);

        Assert.Equal(first, second);
        Assert.Equal(
            ["POST /api/v1/namespaces/harness/persistentvolumeclaims", "GET /api/v1/namespaces/harness/persistentvolumeclaims/harness-vol-ws1"],
            Api.Requests.Select(r => $"{r.Method} {r.Path}"));
    }

    [Fact]
    public async Task GetVolume_Missing_IsNull()
    {
        Assert.Null(await Runtime.GetVolumeAsync("ws1", Ct));
    }

    [Fact]
    public async Task ListVolumes_ListsThisAgentsClaimsByLabelSelector()
    {
        await Runtime.CreateVolumeAsync("b", Ct);
        await Runtime.CreateVolumeAsync("a", Ct);
        await Fixture.Runtime(agent: "agent-2").CreateVolumeAsync("c", Ct);
        Api.ClearRequests();

        var volumes = await Runtime.ListVolumesAsync(Ct);

        Assert.Equal(["a", "b"], volumes.Select(v => v.WorkspaceId));
        var list = Assert.Single(Api.Requests);
        Assert.Equal("/api/v1/namespaces/harness/persistentvolumeclaims", list.Path);
        Assert.Equal("harness.managed=true,harness.agent=agent-1,harness.role=volume", list.Parameter("labelSelector"));
    }

    [Fact]
    public async Task DeleteVolume_Missing_ReturnsFalse()
    {
        Assert.False(await Runtime.DeleteVolumeAsync("ws1", Ct));
    }

    [Fact]
    public async Task DeleteVolume_WhileTheInstanceExists_IsConflictAndKeepsIt()
    {
        await Runtime.CreateVolumeAsync("ws1", Ct);
        await Runtime.StartInstanceAsync("ws1", Spec(), Ct);
        Api.ClearRequests();

        var error = await Assert.ThrowsAsync<RuntimeException>(() => Runtime.DeleteVolumeAsync("ws1", Ct));

        Assert.Equal(RuntimeErrorKind.Conflict, error.Kind);
        Assert.NotNull(await Runtime.GetVolumeAsync("ws1", Ct));
        Assert.Contains(Api.Requests, r => r.Path == "/api/v1/namespaces/harness/pods"
            && r.Parameter("labelSelector") == "harness.managed=true,harness.agent=agent-1,harness.role=instance,harness.workspace=ws1");
        Assert.DoesNotContain(Api.Requests, r => r.Method == "DELETE");
    }

    [Fact]
    public async Task DeleteVolume_AfterTheInstanceIsDeleted_RemovesTheClaimAndItsData()
    {
        await Runtime.CreateVolumeAsync("ws1", Ct);
        await Runtime.StartInstanceAsync("ws1", Spec(), Ct);
        var data = Api.ClaimDirectory("harness-vol-ws1")!;
        await Runtime.DeleteInstanceAsync("ws1", Ct);

        Assert.True(await Runtime.DeleteVolumeAsync("ws1", Ct));

        Assert.Null(await Runtime.GetVolumeAsync("ws1", Ct));
        Assert.Empty(await Runtime.ListVolumesAsync(Ct));
        Assert.False(await Runtime.DeleteVolumeAsync("ws1", Ct));
        await KubernetesInstanceTests.Poll(() => Task.FromResult(Directory.Exists(data)), exists => !exists);
        Assert.False(Directory.Exists(data));
    }

    [Fact]
    public async Task CreateVolume_RightAfterDelete_WaitsForTheTerminatingClaimAndMakesANewOne()
    {
        var first = await Runtime.CreateVolumeAsync("ws1", Ct);
        var uid = Api.Get("persistentvolumeclaims", Namespace, "harness-vol-ws1")!["metadata"]!["uid"]!.GetValue<string>();
        Assert.True(await Runtime.DeleteVolumeAsync("ws1", Ct));

        var second = await Runtime.CreateVolumeAsync("ws1", Ct);

        var claim = Api.Get("persistentvolumeclaims", Namespace, "harness-vol-ws1")!;
        Assert.NotEqual(uid, claim["metadata"]!["uid"]!.GetValue<string>());
        Assert.Null(claim["metadata"]!["deletionTimestamp"]);
        Assert.Equal(first.Name, second.Name);
    }
}
