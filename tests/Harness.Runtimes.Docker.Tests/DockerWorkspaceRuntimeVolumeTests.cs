using System.Security.Cryptography;
using System.Net.Http.Json;
using System.Text;
using Harness.Contracts.Runtime;
using Harness.Testing;

namespace Harness.Runtimes.Docker.Tests;

public sealed class DockerWorkspaceRuntimeVolumeTests(DockerEngine engine) : DockerRuntimeTestBase(engine)
{
    [Fact]
    public async Task CreateVolume_IsIdempotentAndLabelled()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();

        var created = await runtime.CreateVolumeAsync(id, Ct);
        var again = await runtime.CreateVolumeAsync(id, Ct);

        Assert.Equal(WorkspaceIds.VolumeName(id), created.Name);
        Assert.Equal(id, created.WorkspaceId);
        Assert.NotNull(created.CreatedAt);
        Assert.Equal(created, again);
        Assert.Equal(created, await runtime.GetVolumeAsync(id, Ct));
        Assert.Contains(await runtime.ListVolumesAsync(Ct), v => v.WorkspaceId == id);
    }

    [Fact]
    public async Task Archive_ThenDeleteVolume_ThenRestore_KeepsEveryFile()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        var binary = RandomNumberGenerator.GetBytes(200_000);
        var files = new Dictionary<string, byte[]>
        {
            ["README.md"] = Encoding.UTF8.GetBytes("# workspace\n"),
            ["src/main.c"] = Encoding.UTF8.GetBytes("int main(void) { return 0; }\n"),
            ["src/lib/blob.bin"] = binary,
            ["empty.txt"] = [],
        };
        await runtime.RestoreVolumeAsync(id, TestArchives.Create(files), Ct); // creates the volume too
        // An instance may run while the archive is taken: the helper mounts the volume read-only beside it.
        await runtime.StartInstanceAsync(id, HttpSpec(), Ct);

        using var archive = new MemoryStream();
        await runtime.ArchiveVolumeAsync(id, archive, Ct);
        await runtime.DeleteInstanceAsync(id, Ct);
        Assert.True(await runtime.DeleteVolumeAsync(id, Ct));
        archive.Position = 0;
        var archived = TestArchives.Read(archive);
        Assert.All(archived.Keys, name => Assert.False(name.StartsWith("data", StringComparison.Ordinal) || name.StartsWith('/'), name));
        archive.Position = 0;
        await runtime.RestoreVolumeAsync(id, archive, Ct);

        using var again = new MemoryStream();
        await runtime.ArchiveVolumeAsync(id, again, Ct);
        again.Position = 0;
        var restored = TestArchives.Read(again);
        foreach (var (name, content) in files)
        {
            Assert.True(restored.TryGetValue(name, out var actual), $"{name} is missing after the restore");
            Assert.Equal(content, actual);
        }
        Assert.Contains("src/lib", restored.Keys);
        Assert.Equal(archived.Keys.Order(StringComparer.Ordinal), restored.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(await HelperContainersAsync(id));
    }

    [Fact]
    public async Task Restore_ReplacesTheOldFiles()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        await runtime.RestoreVolumeAsync(id, TestArchives.Create(("old.txt", "old"), ("keep.txt", "v1")), Ct);

        await runtime.RestoreVolumeAsync(id, TestArchives.Create(("keep.txt", "v2")), Ct);

        using var archive = new MemoryStream();
        await runtime.ArchiveVolumeAsync(id, archive, Ct);
        archive.Position = 0;
        var entries = TestArchives.Read(archive);
        Assert.Equal(["keep.txt"], entries.Keys);
        Assert.Equal("v2", Encoding.UTF8.GetString(entries["keep.txt"]!));
        Assert.Contains(await runtime.ListVolumesAsync(Ct), v => v.WorkspaceId == id);
    }

    [Fact]
    public async Task Restore_WhileTheInstanceExists_IsConflict()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        await runtime.CreateVolumeAsync(id, Ct);
        await runtime.StartInstanceAsync(id, HttpSpec(), Ct);

        var error = await Assert.ThrowsAsync<RuntimeException>(() => runtime.RestoreVolumeAsync(id, TestArchives.Create(("a.txt", "a")), Ct));

        Assert.Equal(RuntimeErrorKind.Conflict, error.Kind);
    }

    [Fact]
    public async Task Restore_OfSomethingThatIsNotATarGz_IsInvalidAndLeavesTheVolumeAsItWas()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        await runtime.RestoreVolumeAsync(id, TestArchives.Create(("kept.txt", "still here")), Ct);

        var error = await Assert.ThrowsAsync<RuntimeException>(() =>
            runtime.RestoreVolumeAsync(id, new MemoryStream(Encoding.UTF8.GetBytes("this is not gzip")), Ct));

        Assert.Equal(RuntimeErrorKind.Invalid, error.Kind);
        using var archive = new MemoryStream();
        await runtime.ArchiveVolumeAsync(id, archive, Ct);
        archive.Position = 0;
        Assert.Equal("still here", Encoding.UTF8.GetString(TestArchives.Read(archive)["kept.txt"]!));
    }

    [Fact]
    public async Task Archive_OfAMissingVolume_IsNotFound()
    {
        var runtime = NewRuntime();

        var error = await Assert.ThrowsAsync<RuntimeException>(() => runtime.ArchiveVolumeAsync(NewWorkspaceId(), new MemoryStream(), Ct));

        Assert.Equal(RuntimeErrorKind.NotFound, error.Kind);
    }

    [Fact]
    public async Task Archive_OfAnEmptyVolume_IsAnEmptyTarGz()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        await runtime.CreateVolumeAsync(id, Ct);

        using var archive = new MemoryStream();
        await runtime.ArchiveVolumeAsync(id, archive, Ct);

        archive.Position = 0;
        Assert.Empty(TestArchives.Read(archive));
    }

    [Fact]
    public async Task DeleteVolume_RemovesAHelperLeftByADeadAgent()
    {
        var runtime = NewRuntime();
        var id = NewWorkspaceId();
        await runtime.CreateVolumeAsync(id, Ct);
        // What an agent that died mid-archive leaves: a labelled helper container holding the volume.
        using var http = DockerEngine.CreateHttpClient(Engine.Endpoint);
        using var created = await http.PostAsJsonAsync($"/containers/create?name=harness-archive-{id}-deadbeef", new
        {
            Image = DockerRuntimeTestImages.Helper,
            Cmd = new[] { "/never" },
            Labels = new Dictionary<string, string>
            {
                [RuntimeLabels.Managed] = "true",
                [RuntimeLabels.Workspace] = id,
                [RuntimeLabels.Agent] = AgentName,
                [RuntimeLabels.Role] = RuntimeLabels.RoleArchive,
            },
            HostConfig = new { Mounts = new[] { new { Type = "volume", Source = WorkspaceIds.VolumeName(id), Target = "/data" } } },
        }, Ct);
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync(Ct));
        Assert.Single(await HelperContainersAsync(id));

        Assert.True(await runtime.DeleteVolumeAsync(id, Ct));

        Assert.Empty(await HelperContainersAsync(id));
        Assert.Null(await runtime.GetVolumeAsync(id, Ct));
    }

    private async Task<List<string>> HelperContainersAsync(string workspaceId)
    {
        using var http = DockerEngine.CreateHttpClient(Engine.Endpoint);
        var filters = Uri.EscapeDataString($"{{\"label\":[\"{RuntimeLabels.Workspace}={workspaceId}\"]}}");
        var containers = await http.GetFromJsonAsync<System.Text.Json.JsonElement>($"/containers/json?all=true&filters={filters}");
        return [.. containers.EnumerateArray()
            .Where(c => c.GetProperty("Labels").GetProperty(RuntimeLabels.Role).GetString() != RuntimeLabels.RoleInstance)
            .Select(c => c.GetProperty("Id").GetString()!)];
    }
}
