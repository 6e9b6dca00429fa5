using System.Formats.Tar;
using System.IO.Compression;
using static Harness.Runtimes.Kubernetes.Tests.KubernetesRuntimeFixture;

namespace Harness.Runtimes.Kubernetes.Tests;

/// <summary>
/// The fake's job controller runs each Job's script on this machine with its PVC mounts mapped to
/// directories, so these round trips check the real tar commands, not just the Job specs.
/// </summary>
public sealed class KubernetesArchiveTests : KubernetesRuntimeTestBase
{
    [Fact]
    public async Task ArchiveVolume_StreamsATarGzOfTheVolumeAndCleansUp()
    {
        await Runtime.CreateVolumeAsync("ws1", Ct);
        var data = Api.ClaimDirectory("harness-vol-ws1")!;
        Directory.CreateDirectory(Path.Combine(data, "src"));
        await File.WriteAllTextAsync(Path.Combine(data, "src", "main.py"), "print('hi')", Ct);
        await File.WriteAllTextAsync(Path.Combine(data, ".env"), "A=1", Ct);
        Api.ClearRequests();

        using var archive = new MemoryStream();
        await Runtime.ArchiveVolumeAsync("ws1", archive, Ct);

        var entries = ReadTarGz(archive.ToArray());
        Assert.Equal("print('hi')", entries["src/main.py"]);
        Assert.Equal("A=1", entries[".env"]);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Fixture.ArchiveDir));
        Assert.Empty(Api.All("jobs", Namespace));

        var create = Assert.Single(Api.Requests, r => r.Method == "POST");
        Assert.Equal("/apis/batch/v1/namespaces/harness/jobs", create.Path);
        var delete = Assert.Single(Api.Requests, r => r.Method == "DELETE");
        Assert.Equal("Background", delete.Parameter("propagationPolicy"));
        Assert.True(Api.TryGetJobDeletion(delete.Name!, out var policy));
        Assert.Equal("Background", policy);
        Assert.StartsWith("harness-archive-", delete.Name, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ArchiveJob_MountsTheVolumeReadOnlyAndTheArchivesClaimAndRunsTar()
    {
        await Runtime.CreateVolumeAsync("ws1", Ct);
        await Runtime.StartInstanceAsync("ws1", Spec(), Ct);
        Api.HoldJobs = true;
        using var archive = new MemoryStream();
        var running = Runtime.ArchiveVolumeAsync("ws1", archive, Ct);

        var job = await KubernetesInstanceTests.Poll(() => Task.FromResult(Api.All("jobs", Namespace).SingleOrDefault()), j => j is not null);
        Assert.NotNull(job);
        KubernetesInstanceTests.AssertLabels(job, "ws1", "archive");
        var pod = job["spec"]!["template"]!["spec"]!;
        var container = pod["containers"]![0]!;
        Assert.Equal("busybox:1.37", container["image"]!.GetValue<string>());
        var name = job["metadata"]!["name"]!.GetValue<string>();
        Assert.Equal(["sh", "-c", $"set -e; tar czf /archives/{name}.tar.gz.partial -C /workspace . && mv /archives/{name}.tar.gz.partial /archives/{name}.tar.gz"],
            container["command"]!.AsArray().Select(c => c!.GetValue<string>()));
        var mounts = container["volumeMounts"]!.AsArray();
        Assert.Equal(("/workspace", true), (mounts[0]!["mountPath"]!.GetValue<string>(), mounts[0]!["readOnly"]!.GetValue<bool>()));
        Assert.Equal("/archives", mounts[1]!["mountPath"]!.GetValue<string>());
        Assert.Equal(["harness-vol-ws1", "harness-archives"],
            pod["volumes"]!.AsArray().Select(v => v!["persistentVolumeClaim"]!["claimName"]!.GetValue<string>()));
        Assert.Equal("Never", pod["restartPolicy"]!.GetValue<string>());
        Assert.Equal(0, job["spec"]!["backoffLimit"]!.GetValue<int>());
        // The instance holds the ReadWriteOnce volume: the job must land on its node.
        var affinity = pod["affinity"]!["podAffinity"]!["requiredDuringSchedulingIgnoredDuringExecution"]![0]!;
        Assert.Equal("kubernetes.io/hostname", affinity["topologyKey"]!.GetValue<string>());
        Assert.Equal("ws1", affinity["labelSelector"]!["matchLabels"]![RuntimeLabels.Workspace]!.GetValue<string>());

        Api.HoldJobs = false;
        await running;
        Assert.NotEmpty(archive.ToArray());
    }

    [Fact]
    public async Task RestoreVolume_ReplacesTheFilesWithTheArchivesAndCreatesTheVolume()
    {
        await Runtime.CreateVolumeAsync("source", Ct);
        var source = Api.ClaimDirectory("harness-vol-source")!;
        Directory.CreateDirectory(Path.Combine(source, "dir"));
        await File.WriteAllTextAsync(Path.Combine(source, "dir", "a.txt"), "alpha", Ct);
        using var archive = new MemoryStream();
        await Runtime.ArchiveVolumeAsync("source", archive, Ct);

        await Runtime.CreateVolumeAsync("target", Ct);
        var target = Api.ClaimDirectory("harness-vol-target")!;
        await File.WriteAllTextAsync(Path.Combine(target, "stale.txt"), "old", Ct);
        await File.WriteAllTextAsync(Path.Combine(target, ".hidden"), "old", Ct);
        archive.Position = 0;
        await Runtime.RestoreVolumeAsync("target", archive, Ct);

        Assert.Equal("alpha", await File.ReadAllTextAsync(Path.Combine(target, "dir", "a.txt"), Ct));
        Assert.False(File.Exists(Path.Combine(target, "stale.txt")));
        Assert.False(File.Exists(Path.Combine(target, ".hidden")));

        archive.Position = 0;
        await Runtime.RestoreVolumeAsync("fresh", archive, Ct);
        Assert.NotNull(await Runtime.GetVolumeAsync("fresh", Ct));
        Assert.Equal("alpha", await File.ReadAllTextAsync(Path.Combine(Api.ClaimDirectory("harness-vol-fresh")!, "dir", "a.txt"), Ct));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Fixture.ArchiveDir));
        Assert.Empty(Api.All("jobs", Namespace));
    }

    [Fact]
    public async Task RestoreVolume_WhileTheInstanceExists_IsConflict()
    {
        await Runtime.CreateVolumeAsync("ws1", Ct);
        await Runtime.StartInstanceAsync("ws1", Spec(), Ct);

        var error = await Assert.ThrowsAsync<RuntimeException>(() => Runtime.RestoreVolumeAsync("ws1", new MemoryStream([1, 2, 3]), Ct));

        Assert.Equal(RuntimeErrorKind.Conflict, error.Kind);
        Assert.Empty(Api.All("jobs", Namespace));
    }

    [Fact]
    public async Task RestoreVolume_NotATarGz_FailsWithTheJobsReasonAndCleansUp()
    {
        var error = await Assert.ThrowsAsync<RuntimeException>(() =>
            Runtime.RestoreVolumeAsync("ws1", new MemoryStream("not a tarball"u8.ToArray()), Ct));

        Assert.Equal(RuntimeErrorKind.Failed, error.Kind);
        Assert.Contains("BackoffLimitExceeded", error.Message, StringComparison.Ordinal);
        Assert.Empty(Api.All("jobs", Namespace));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Fixture.ArchiveDir));
    }

    [Fact]
    public async Task ArchiveVolume_Missing_IsNotFound()
    {
        var error = await Assert.ThrowsAsync<RuntimeException>(() => Runtime.ArchiveVolumeAsync("ws1", new MemoryStream(), Ct));

        Assert.Equal(RuntimeErrorKind.NotFound, error.Kind);
        Assert.Empty(Api.All("jobs", Namespace));
    }

    private static Dictionary<string, string> ReadTarGz(byte[] bytes)
    {
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile && entry.DataStream is { } data)
            {
                using var reader = new StreamReader(data);
                entries[entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name] = reader.ReadToEnd();
            }
        }
        return entries;
    }
}
