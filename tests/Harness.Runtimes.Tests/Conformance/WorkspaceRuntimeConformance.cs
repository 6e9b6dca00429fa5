using Harness.Contracts.Runtime;

namespace Harness.Runtimes.Tests.Conformance;

/// <summary>
/// The behaviours every <see cref="IWorkspaceRuntime"/> shares: the same results and the same
/// <see cref="RuntimeErrorKind"/>s, so the Runtime Agent API answers alike whatever the backend.
/// </summary>
/// <remarks>
/// To run it against a runtime, subclass it in that runtime's test project (reference this project),
/// create the runtime in <see cref="CreateRuntimeAsync"/> (called again for the restart test: the second
/// runtime must see the same backend), and name an image the backend has (<see cref="Image"/>) and one it
/// does not. A backend that cannot serve HTTP from its instances here (the Kubernetes fake) says so with
/// <see cref="ServesHttp"/>; one whose archive jobs do not run here says so with <see cref="RunsArchiveJobs"/>.
/// Each test uses workspace ids of its own and removes what it made.
/// </remarks>
public abstract class WorkspaceRuntimeConformance : IAsyncLifetime
{
    private readonly List<IWorkspaceRuntime> _runtimes = [];
    private readonly List<string> _workspaces = [];

    protected IWorkspaceRuntime Runtime { get; private set; } = null!;

    /// <summary>An image the backend has, whose instances serve the volume's files over HTTP on <see cref="Port"/>.</summary>
    protected abstract string Image { get; }

    protected virtual string MissingImage => "harness-test/missing:404";

    protected virtual int Port => InstanceSpec.DefaultPort;

    protected virtual bool ServesHttp => true;

    protected virtual bool RunsArchiveJobs => true;

    /// <summary>How long an instance may take to reach running.</summary>
    protected virtual TimeSpan StartTimeout => TimeSpan.FromSeconds(30);

    protected abstract Task<IWorkspaceRuntime> CreateRuntimeAsync();

    public async Task InitializeAsync()
    {
        Runtime = await NewRuntimeAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var id in _workspaces)
        {
            try
            {
                await Runtime.DeleteInstanceAsync(id, CancellationToken.None);
                await Runtime.DeleteVolumeAsync(id, CancellationToken.None);
            }
            catch (RuntimeException)
            {
                // Best effort: a test that broke the backend on purpose leaves nothing to clean.
            }
        }
        foreach (var runtime in _runtimes)
        {
            switch (runtime)
            {
                case IAsyncDisposable a: await a.DisposeAsync(); break;
                case IDisposable d: d.Dispose(); break;
            }
        }
    }

    protected async Task<IWorkspaceRuntime> NewRuntimeAsync()
    {
        var runtime = await CreateRuntimeAsync();
        _runtimes.Add(runtime);
        return runtime;
    }

    /// <summary>A fresh workspace id, removed after the test.</summary>
    protected string NewWorkspace()
    {
        var id = $"ct-{Guid.NewGuid():N}"[..24];
        _workspaces.Add(id);
        return id;
    }

    protected InstanceSpec Spec(string? image = null, ResourceLimits? limits = null) =>
        new(image ?? Image, Port, new Dictionary<string, string> { ["HARNESS_TEST"] = "1" }, InstanceSpec.DefaultMountPath, limits ?? new ResourceLimits());

    protected async Task<InstanceStatus> StartRunningAsync(string id)
    {
        await Runtime.CreateVolumeAsync(id, CancellationToken.None);
        await Runtime.StartInstanceAsync(id, Spec(), CancellationToken.None);
        return await WaitForAsync(Runtime, id, InstanceState.Running);
    }

    protected async Task<InstanceStatus> WaitForAsync(IWorkspaceRuntime runtime, string id, InstanceState state)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            var status = await runtime.GetInstanceAsync(id, CancellationToken.None);
            if (status.State == state)
            {
                return status;
            }
            Assert.True(DateTime.UtcNow < deadline, $"workspace {id} stayed {status.State} ({status.Message}), expected {state}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task StartInstance_WithoutVolume_IsNotFound()
    {
        var id = NewWorkspace();
        var e = await Assert.ThrowsAsync<RuntimeException>(() => Runtime.StartInstanceAsync(id, Spec(), CancellationToken.None));
        Assert.Equal(RuntimeErrorKind.NotFound, e.Kind);
    }

    [Fact]
    public async Task StartInstance_UnknownImage_IsImageNotFound()
    {
        var id = NewWorkspace();
        await Runtime.CreateVolumeAsync(id, CancellationToken.None);
        var e = await Assert.ThrowsAsync<RuntimeException>(() => Runtime.StartInstanceAsync(id, Spec(MissingImage), CancellationToken.None));
        Assert.Equal(RuntimeErrorKind.ImageNotFound, e.Kind);
        Assert.Contains(MissingImage, e.Message);
    }

    [Fact]
    public async Task StartInstance_Running_HasUpstreamAndImage()
    {
        var id = NewWorkspace();
        var status = await StartRunningAsync(id);
        Assert.Equal(id, status.WorkspaceId);
        Assert.Equal(Image, status.Image);
        Assert.NotNull(status.Upstream);
        Assert.True(Uri.TryCreate(status.Upstream, UriKind.Absolute, out var upstream) && upstream.Scheme == "http", status.Upstream);
    }

    [Fact]
    public async Task StartInstance_ServesTheVolumesFilesAtItsUpstream()
    {
        if (!ServesHttp)
        {
            return;
        }
        var id = NewWorkspace();
        await Runtime.CreateVolumeAsync(id, CancellationToken.None);
        await Runtime.RestoreVolumeAsync(id, TarGz.Create(new Dictionary<string, string> { ["hello.txt"] = "hello from " + id }), CancellationToken.None);
        await Runtime.StartInstanceAsync(id, Spec(), CancellationToken.None);
        var status = await WaitForAsync(Runtime, id, InstanceState.Running);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var body = await RetryAsync(() => http.GetStringAsync($"{status.Upstream}/hello.txt"));
        Assert.Equal("hello from " + id, body);
    }

    [Fact]
    public async Task StartInstance_Twice_KeepsTheRunningInstance()
    {
        var id = NewWorkspace();
        var first = await StartRunningAsync(id);
        var second = await Runtime.StartInstanceAsync(id, Spec(), CancellationToken.None);
        Assert.Equal(InstanceState.Running, second.State);
        Assert.Equal(first.Upstream, second.Upstream);
        Assert.Single(await Runtime.ListInstancesAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task GetInstance_None_IsNotFoundState()
    {
        var status = await Runtime.GetInstanceAsync(NewWorkspace(), CancellationToken.None);
        Assert.Equal(InstanceState.NotFound, status.State);
        Assert.Null(status.Upstream);
    }

    [Fact]
    public async Task DeleteInstance_KeepsTheVolume_AndIsFalseTheSecondTime()
    {
        var id = NewWorkspace();
        await StartRunningAsync(id);
        Assert.True(await Runtime.DeleteInstanceAsync(id, CancellationToken.None));
        Assert.Equal(InstanceState.NotFound, (await Runtime.GetInstanceAsync(id, CancellationToken.None)).State);
        Assert.NotNull(await Runtime.GetVolumeAsync(id, CancellationToken.None));
        Assert.False(await Runtime.DeleteInstanceAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task CreateVolume_Twice_ReturnsTheSameVolume()
    {
        var id = NewWorkspace();
        var first = await Runtime.CreateVolumeAsync(id, CancellationToken.None);
        var second = await Runtime.CreateVolumeAsync(id, CancellationToken.None);
        Assert.Equal(first.Name, second.Name);
        Assert.Equal(WorkspaceIds.VolumeName(id), first.Name);
        Assert.Single(await Runtime.ListVolumesAsync(CancellationToken.None), v => v.WorkspaceId == id);
    }

    [Fact]
    public async Task DeleteVolume_WhileTheInstanceRuns_IsConflict_AndLosesNothing()
    {
        var id = NewWorkspace();
        await StartRunningAsync(id);
        var e = await Assert.ThrowsAsync<RuntimeException>(() => Runtime.DeleteVolumeAsync(id, CancellationToken.None));
        Assert.Equal(RuntimeErrorKind.Conflict, e.Kind);
        Assert.NotNull(await Runtime.GetVolumeAsync(id, CancellationToken.None));
        Assert.Equal(InstanceState.Running, (await Runtime.GetInstanceAsync(id, CancellationToken.None)).State);
    }

    [Fact]
    public async Task DeleteVolume_None_IsFalse_AndGetVolumeIsNull()
    {
        var id = NewWorkspace();
        Assert.False(await Runtime.DeleteVolumeAsync(id, CancellationToken.None));
        Assert.Null(await Runtime.GetVolumeAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task ListInstances_FiltersByWorkspacePrefix()
    {
        var a = NewWorkspace();
        var b = NewWorkspace();
        await StartRunningAsync(a);
        await StartRunningAsync(b);
        var all = await Runtime.ListInstancesAsync("ct-", CancellationToken.None);
        Assert.Contains(all, i => i.WorkspaceId == a);
        Assert.Contains(all, i => i.WorkspaceId == b);
        var one = await Runtime.ListInstancesAsync(a, CancellationToken.None);
        Assert.Equal([a], one.Select(i => i.WorkspaceId));
    }

    [Fact]
    public async Task Archive_ThenRestoreIntoANewVolume_KeepsEveryFile()
    {
        if (!RunsArchiveJobs)
        {
            return;
        }
        var id = NewWorkspace();
        var files = new Dictionary<string, string> { ["README.md"] = "# notes", ["src/main.c"] = "int main(void) { return 0; }" };
        await Runtime.CreateVolumeAsync(id, CancellationToken.None);
        await Runtime.RestoreVolumeAsync(id, TarGz.Create(files), CancellationToken.None);

        var archive = new MemoryStream();
        await Runtime.ArchiveVolumeAsync(id, archive, CancellationToken.None);
        Assert.True(await Runtime.DeleteVolumeAsync(id, CancellationToken.None));
        archive.Position = 0;
        await Runtime.RestoreVolumeAsync(id, archive, CancellationToken.None);

        var again = new MemoryStream();
        await Runtime.ArchiveVolumeAsync(id, again, CancellationToken.None);
        again.Position = 0;
        Assert.Equal(files, TarGz.Read(again));
    }

    [Fact]
    public async Task Archive_OfAnEmptyVolume_RestoresToAnEmptyVolume()
    {
        var id = NewWorkspace();
        await Runtime.CreateVolumeAsync(id, CancellationToken.None);
        var archive = new MemoryStream();
        await Runtime.ArchiveVolumeAsync(id, archive, CancellationToken.None);
        archive.Position = 0;
        await Runtime.RestoreVolumeAsync(id, archive, CancellationToken.None);
        var again = new MemoryStream();
        await Runtime.ArchiveVolumeAsync(id, again, CancellationToken.None);
        again.Position = 0;
        Assert.Empty(TarGz.Read(again));
    }

    [Fact]
    public async Task Archive_WhileTheInstanceRuns_Works()
    {
        if (!RunsArchiveJobs)
        {
            return;
        }
        var id = NewWorkspace();
        await Runtime.CreateVolumeAsync(id, CancellationToken.None);
        await Runtime.RestoreVolumeAsync(id, TarGz.Create(new Dictionary<string, string> { ["a.txt"] = "a" }), CancellationToken.None);
        await Runtime.StartInstanceAsync(id, Spec(), CancellationToken.None);
        await WaitForAsync(Runtime, id, InstanceState.Running);
        var archive = new MemoryStream();
        await Runtime.ArchiveVolumeAsync(id, archive, CancellationToken.None);
        archive.Position = 0;
        Assert.Equal("a", TarGz.Read(archive)["a.txt"]);
    }

    [Fact]
    public async Task Archive_WithoutVolume_IsNotFound()
    {
        var e = await Assert.ThrowsAsync<RuntimeException>(() => Runtime.ArchiveVolumeAsync(NewWorkspace(), new MemoryStream(), CancellationToken.None));
        Assert.Equal(RuntimeErrorKind.NotFound, e.Kind);
    }

    [Fact]
    public async Task Restore_WhileTheInstanceRuns_IsConflict()
    {
        var id = NewWorkspace();
        await StartRunningAsync(id);
        var e = await Assert.ThrowsAsync<RuntimeException>(() =>
            Runtime.RestoreVolumeAsync(id, TarGz.Create(new Dictionary<string, string> { ["x"] = "y" }), CancellationToken.None));
        Assert.Equal(RuntimeErrorKind.Conflict, e.Kind);
    }

    [Fact]
    public async Task ANewRuntime_FindsTheInstancesAndVolumesOfThePreviousOne()
    {
        var id = NewWorkspace();
        var before = await StartRunningAsync(id);
        var restarted = await NewRuntimeAsync();
        var after = await WaitForAsync(restarted, id, InstanceState.Running);
        Assert.Equal(before.Image, after.Image);
        Assert.Contains(await restarted.ListInstancesAsync(null, CancellationToken.None), i => i.WorkspaceId == id);
        Assert.Contains(await restarted.ListVolumesAsync(CancellationToken.None), v => v.WorkspaceId == id);
    }

    [Fact]
    public async Task Probe_IsHealthy()
    {
        var probe = await Runtime.ProbeAsync(CancellationToken.None);
        Assert.True(probe.Healthy, probe.Message);
    }

    /// <summary>An instance may report running a moment before its server accepts connections.</summary>
    protected static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (HttpRequestException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }
}
