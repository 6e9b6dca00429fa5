using Harness.Contracts.Runtime;
using Harness.Testing;

namespace Harness.Runtimes.Docker.Tests;

public sealed class DockerWorkspaceRuntimeInstanceTests(DockerEngine engine) : DockerRuntimeTestBase(engine)
{
    [Fact]
    public async Task StartInstance_WithRestoredVolume_ServesItsFilesAtTheUpstream()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        await runtime.CreateVolumeAsync(id, Ct);
        await runtime.RestoreVolumeAsync(id, TestArchives.Create(("hello.txt", "hello from the volume"), ("notes/deep.txt", "nested")), Ct);

        var status = await runtime.StartInstanceAsync(id, HttpSpec(), Ct);

        Assert.Equal(InstanceState.Running, status.State);
        Assert.Equal(DockerEngine.HttpImage, status.Image);
        Assert.NotNull(status.StartedAt);
        Assert.StartsWith("http://127.0.0.1:", status.Upstream);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        Assert.Equal("hello from the volume", await http.GetStringAsync($"{status.Upstream}/hello.txt", Ct));
        Assert.Equal("nested", await http.GetStringAsync($"{status.Upstream}/notes/deep.txt", Ct));
        var read = await runtime.GetInstanceAsync(id, Ct);
        Assert.Equal(InstanceState.Running, read.State);
        Assert.Equal(status.Upstream, read.Upstream);
    }

    [Fact]
    public async Task StartInstance_WhenRunningWithTheSameImage_ReturnsTheSameInstance()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        await runtime.CreateVolumeAsync(id, Ct);
        var first = await runtime.StartInstanceAsync(id, HttpSpec(), Ct);
        var containerId = (await Engine.InspectContainerAsync(WorkspaceIds.InstanceName(id))).GetProperty("Id").GetString();

        var second = await runtime.StartInstanceAsync(id, HttpSpec(), Ct);

        Assert.Equal(InstanceState.Running, second.State);
        Assert.Equal(first.Upstream, second.Upstream);
        Assert.Equal(first.StartedAt, second.StartedAt);
        Assert.Equal(containerId, (await Engine.InspectContainerAsync(WorkspaceIds.InstanceName(id))).GetProperty("Id").GetString());
    }

    [Fact]
    public async Task StartInstance_ConcurrentCalls_MakeOneInstance()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        await runtime.CreateVolumeAsync(id, Ct);

        var both = await Task.WhenAll(runtime.StartInstanceAsync(id, HttpSpec(), Ct), runtime.StartInstanceAsync(id, HttpSpec(), Ct));

        Assert.All(both, s => Assert.Equal(InstanceState.Running, s.State));
        Assert.Equal(both[0].Upstream, both[1].Upstream);
        Assert.Single(await runtime.ListInstancesAsync(id, Ct));
    }

    [Fact]
    public async Task StartInstance_WithAnotherImage_ReplacesTheRunningInstance()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        await runtime.CreateVolumeAsync(id, Ct);
        await runtime.StartInstanceAsync(id, HttpSpec(), Ct);
        var before = (await Engine.InspectContainerAsync(WorkspaceIds.InstanceName(id))).GetProperty("Id").GetString();
        // The same image under a second reference counts as another image: the runtime compares what was asked for.
        using var http = DockerEngine.CreateHttpClient(Engine.Endpoint);
        using var tagged = await http.PostAsync($"/images/{DockerEngine.HttpImage}/tag?repo=harness-test/http&tag=other", null, Ct);
        Assert.True(tagged.IsSuccessStatusCode);

        var replaced = await runtime.StartInstanceAsync(id, HttpSpec(image: "harness-test/http:other"), Ct);

        Assert.Equal(InstanceState.Running, replaced.State);
        Assert.Equal("harness-test/http:other", replaced.Image);
        Assert.NotEqual(before, (await Engine.InspectContainerAsync(WorkspaceIds.InstanceName(id))).GetProperty("Id").GetString());
        using var untagged = await http.DeleteAsync("/images/harness-test/http:other", Ct); // only the tag goes
        Assert.True(untagged.IsSuccessStatusCode);
    }

    [Fact]
    public async Task StartInstance_WithoutVolume_IsNotFound()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();

        var error = await Assert.ThrowsAsync<RuntimeException>(() => runtime.StartInstanceAsync(id, HttpSpec(), Ct));

        Assert.Equal(RuntimeErrorKind.NotFound, error.Kind);
        Assert.Equal(InstanceState.NotFound, (await runtime.GetInstanceAsync(id, Ct)).State);
    }

    [Fact]
    public async Task StartInstance_WithAnImageTheEngineDoesNotHave_IsImageNotFound()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        await runtime.CreateVolumeAsync(id, Ct);

        var error = await Assert.ThrowsAsync<RuntimeException>(() => runtime.StartInstanceAsync(id, HttpSpec(image: "harness-test/absent:404"), Ct));

        Assert.Equal(RuntimeErrorKind.ImageNotFound, error.Kind);
        Assert.Contains("harness-test/absent:404", error.Message);
        Assert.Equal(InstanceState.NotFound, (await runtime.GetInstanceAsync(id, Ct)).State);
    }

    [Fact]
    public async Task StartInstance_WithAMissingImage_LeavesTheRunningInstanceAlone()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        await runtime.CreateVolumeAsync(id, Ct);
        var running = await runtime.StartInstanceAsync(id, HttpSpec(), Ct);

        var error = await Assert.ThrowsAsync<RuntimeException>(() => runtime.StartInstanceAsync(id, HttpSpec(image: "harness-test/absent:404"), Ct));

        Assert.Equal(RuntimeErrorKind.ImageNotFound, error.Kind);
        var after = await runtime.GetInstanceAsync(id, Ct);
        Assert.Equal(InstanceState.Running, after.State);
        Assert.Equal(running.StartedAt, after.StartedAt);
    }

    [Fact]
    public async Task StartInstance_AppliesLimitsLabelsAndMountAndIsNotPrivileged()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        await runtime.CreateVolumeAsync(id, Ct);

        await runtime.StartInstanceAsync(id, HttpSpec(new ResourceLimits(Cpu: 0.5, MemoryMb: 64, Pids: 50)), Ct);

        var container = await Engine.InspectContainerAsync(WorkspaceIds.InstanceName(id));
        var host = container.GetProperty("HostConfig");
        Assert.Equal(500_000_000, host.GetProperty("NanoCpus").GetInt64());
        Assert.Equal(64L * 1024 * 1024, host.GetProperty("Memory").GetInt64());
        Assert.Equal(50, host.GetProperty("PidsLimit").GetInt64());
        Assert.False(host.GetProperty("Privileged").GetBoolean());
        Assert.Equal("no", host.GetProperty("RestartPolicy").GetProperty("Name").GetString());
        Assert.Equal("host", host.GetProperty("NetworkMode").GetString());
        var labels = container.GetProperty("Config").GetProperty("Labels");
        Assert.Equal("true", labels.GetProperty(RuntimeLabels.Managed).GetString());
        Assert.Equal(id, labels.GetProperty(RuntimeLabels.Workspace).GetString());
        Assert.Equal(AgentName, labels.GetProperty(RuntimeLabels.Agent).GetString());
        Assert.Equal(RuntimeLabels.RoleInstance, labels.GetProperty(RuntimeLabels.Role).GetString());
        var mount = Assert.Single(container.GetProperty("Mounts").EnumerateArray());
        Assert.Equal(WorkspaceIds.VolumeName(id), mount.GetProperty("Name").GetString());
        Assert.Equal(InstanceSpec.DefaultMountPath, mount.GetProperty("Destination").GetString());
        Assert.True(mount.GetProperty("RW").GetBoolean());
    }

    [Fact]
    public async Task StartInstance_WithoutLimits_UsesTheDefaults()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        await runtime.CreateVolumeAsync(id, Ct);

        await runtime.StartInstanceAsync(id, HttpSpec(), Ct);

        var host = (await Engine.InspectContainerAsync(WorkspaceIds.InstanceName(id))).GetProperty("HostConfig");
        var defaults = new DockerRuntimeOptions();
        Assert.Equal((long)(defaults.DefaultCpu * 1_000_000_000), host.GetProperty("NanoCpus").GetInt64());
        Assert.Equal(defaults.DefaultMemoryMb * 1024L * 1024, host.GetProperty("Memory").GetInt64());
        Assert.Equal(defaults.DefaultPids, host.GetProperty("PidsLimit").GetInt64());
    }

    [Fact]
    public async Task StartInstance_WhoseProcessExitsWithAnError_IsErrorAndTheNextStartReplacesIt()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        await runtime.CreateVolumeAsync(id, Ct);
        // One process allowed: the init runs, cannot fork the server, and exits non-zero.
        var crashing = HttpSpec(new ResourceLimits(Pids: 1));

        var started = await runtime.StartInstanceAsync(id, crashing, Ct);

        Assert.Equal(InstanceState.Error, started.State);
        Assert.StartsWith("exited with code ", started.Message);
        Assert.Null(started.Upstream);
        Assert.Equal(InstanceState.Error, (await runtime.GetInstanceAsync(id, Ct)).State);
        var replaced = await runtime.StartInstanceAsync(id, HttpSpec(), Ct);
        Assert.Equal(InstanceState.Running, replaced.State);
        Assert.NotNull(replaced.Upstream);
    }

    [Fact]
    public async Task StartInstance_TheEngineRefuses_IsFailedWithTheEnginesReason()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        await runtime.CreateVolumeAsync(id, Ct);
        // A volume mounted over a file of the image: the engine refuses to create the container.
        var broken = HttpSpec() with { MountPath = "/bin/busybox" };

        var error = await Assert.ThrowsAsync<RuntimeException>(() => runtime.StartInstanceAsync(id, broken, Ct));

        Assert.Equal(RuntimeErrorKind.Failed, error.Kind);
        Assert.Contains("busybox", error.Message); // the engine says which mount it could not make
    }

    [Fact]
    public async Task DeleteInstance_RemovesTheContainerAndKeepsTheVolume()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        await runtime.CreateVolumeAsync(id, Ct);
        var started = await runtime.StartInstanceAsync(id, HttpSpec(), Ct);

        Assert.True(await runtime.DeleteInstanceAsync(id, Ct));

        Assert.Equal(InstanceState.NotFound, (await runtime.GetInstanceAsync(id, Ct)).State);
        Assert.NotNull(await runtime.GetVolumeAsync(id, Ct));
        Assert.False(await runtime.DeleteInstanceAsync(id, Ct));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetStringAsync(started.Upstream, Ct));
    }

    [Fact]
    public async Task DeleteVolume_WhileTheInstanceExists_IsConflictAndKeepsIt()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        await runtime.CreateVolumeAsync(id, Ct);
        await runtime.StartInstanceAsync(id, HttpSpec(), Ct);

        var error = await Assert.ThrowsAsync<RuntimeException>(() => runtime.DeleteVolumeAsync(id, Ct));

        Assert.Equal(RuntimeErrorKind.Conflict, error.Kind);
        Assert.NotNull(await runtime.GetVolumeAsync(id, Ct));
        Assert.Equal(InstanceState.Running, (await runtime.GetInstanceAsync(id, Ct)).State);
        await runtime.DeleteInstanceAsync(id, Ct);
        Assert.True(await runtime.DeleteVolumeAsync(id, Ct));
        Assert.Null(await runtime.GetVolumeAsync(id, Ct));
        Assert.False(await runtime.DeleteVolumeAsync(id, Ct));
    }

    [Fact]
    public async Task NewRuntime_ForTheSameAgent_ListsItsInstancesAndVolumesFromLabels()
    {
        var before = NewRuntime();
        var running = NewWorkspaceId();
        var volumeOnly = NewWorkspaceId();
        await before.CreateVolumeAsync(running, Ct);
        await before.CreateVolumeAsync(volumeOnly, Ct);
        var started = await before.StartInstanceAsync(running, HttpSpec(), Ct);
        before.Dispose();

        var after = NewRuntime(); // an agent restart: nothing but the engine remembers

        var instance = Assert.Single(await after.ListInstancesAsync(null, Ct));
        Assert.Equal(running, instance.WorkspaceId);
        Assert.Equal(InstanceState.Running, instance.State);
        Assert.Equal(started.Upstream, instance.Upstream);
        Assert.Equal(running, Assert.Single(await after.ListInstancesAsync(running[..6], Ct)).WorkspaceId);
        Assert.Empty(await after.ListInstancesAsync("no-such-prefix", Ct));
        var volumes = await after.ListVolumesAsync(Ct);
        Assert.Equal(new[] { running, volumeOnly }.Order(StringComparer.Ordinal), volumes.Select(v => v.WorkspaceId));
        Assert.All(volumes, v => Assert.Equal(WorkspaceIds.VolumeName(v.WorkspaceId), v.Name));
        var otherAgent = NewRuntime(agentName: AgentName + "-other");
        Assert.Empty(await otherAgent.ListInstancesAsync(null, Ct));
        Assert.Empty(await otherAgent.ListVolumesAsync(Ct));
    }

    [Fact]
    public async Task UnreachableEngine_IsUnavailable()
    {
        var runtime = NewRuntime(endpoint: $"unix:///tmp/harness-no-engine-{Guid.NewGuid():N}.sock");

        var probe = await runtime.ProbeAsync(Ct);
        var get = await Assert.ThrowsAsync<RuntimeException>(() => runtime.GetInstanceAsync("any", Ct));
        var list = await Assert.ThrowsAsync<RuntimeException>(() => runtime.ListVolumesAsync(Ct));

        Assert.False(probe.Healthy);
        Assert.Contains("does not answer", probe.Message);
        Assert.Equal(RuntimeErrorKind.Unavailable, get.Kind);
        Assert.Equal(RuntimeErrorKind.Unavailable, list.Kind);
    }

    [Fact]
    public async Task Probe_OnTheRealEngine_IsHealthy()
    {
        var probe = await NewRuntime().ProbeAsync(Ct);

        Assert.True(probe.Healthy, probe.Message);
        Assert.StartsWith("Docker Engine ", probe.Message);
    }

    [Fact]
    public async Task InvalidWorkspaceId_IsInvalid()
    {
        var runtime = NewRuntime();

        var error = await Assert.ThrowsAsync<RuntimeException>(() => runtime.CreateVolumeAsync("Not_A_Label", Ct));

        Assert.Equal(RuntimeErrorKind.Invalid, error.Kind);
    }
}
