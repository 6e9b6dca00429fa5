using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Harness.Contracts.Runtime;
using Microsoft.Extensions.Options;

namespace Harness.Runtimes.Fake;

/// <summary>
/// The fake workspace runtime: a volume is a folder, an instance a loopback HTTP server over that
/// folder (see <see cref="FakeInstanceServer"/>). State is kept on disk, so a new runtime over the same
/// root (an agent restart) finds its volumes and brings its instances back, as a container engine would.
/// It passes the same conformance suite as Docker and Kubernetes; <c>harness dev</c> runs workspaces on it.
/// </summary>
public sealed class FakeWorkspaceRuntime : IWorkspaceRuntime, IWorkspaceVolumeSource, IAsyncDisposable, IDisposable
{
    public const string RuntimeName = "fake";

    private readonly FakeRuntimeOptions _options;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, FakeInstanceServer> _servers = [];
    private bool _recovered;

    public FakeWorkspaceRuntime(IOptions<FakeRuntimeOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        Directory.CreateDirectory(VolumesDir);
        Directory.CreateDirectory(InstancesDir);
    }

    public string Name => RuntimeName;

    /// <summary>The volume is a folder on this host: sandbox jobs bind-mount it.</summary>
    public Task<WorkspaceVolumeMount?> GetVolumeMountAsync(string workspaceId, CancellationToken cancellationToken) =>
        Task.FromResult(WorkspaceIds.IsValid(workspaceId) && Directory.Exists(VolumeData(workspaceId))
            ? new WorkspaceVolumeMount(Path.GetFullPath(VolumeData(workspaceId)), null)
            : null);

    private string VolumesDir => Path.Combine(_options.Root, "volumes");
    private string InstancesDir => Path.Combine(_options.Root, "instances");
    private string VolumeDir(string id) => Path.Combine(VolumesDir, id);
    private string VolumeData(string id) => Path.Combine(VolumeDir(id), "data");
    private string RecordPath(string id) => Path.Combine(InstancesDir, id + ".json");

    public async Task<InstanceStatus> StartInstanceAsync(string workspaceId, InstanceSpec spec, CancellationToken cancellationToken)
    {
        await LockAsync(cancellationToken);
        try
        {
            if (!Directory.Exists(VolumeData(workspaceId)))
            {
                throw RuntimeException.VolumeNotFound(workspaceId);
            }
            if (_options.Images.Count > 0 && !_options.Images.Contains(spec.Image, StringComparer.Ordinal))
            {
                throw RuntimeException.ImageMissing(spec.Image);
            }
            var record = ReadRecord(workspaceId);
            if (record is not null && record.Image == spec.Image && _servers.ContainsKey(workspaceId))
            {
                return Status(workspaceId, record);
            }
            await StopServerAsync(workspaceId);
            record = new InstanceRecord(spec.Image, spec.Port, spec.MountPath, _time.GetUtcNow());
            await StartServerAsync(workspaceId, cancellationToken);
            await File.WriteAllTextAsync(RecordPath(workspaceId), JsonSerializer.Serialize(record), cancellationToken);
            return Status(workspaceId, record);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<bool> DeleteInstanceAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await LockAsync(cancellationToken);
        try
        {
            var existed = File.Exists(RecordPath(workspaceId));
            await StopServerAsync(workspaceId);
            File.Delete(RecordPath(workspaceId));
            return existed;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<InstanceStatus> GetInstanceAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await LockAsync(cancellationToken);
        try
        {
            var record = ReadRecord(workspaceId);
            return record is null ? new InstanceStatus(workspaceId, InstanceState.NotFound) : Status(workspaceId, record);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<IReadOnlyList<InstanceStatus>> ListInstancesAsync(string? prefix, CancellationToken cancellationToken)
    {
        await LockAsync(cancellationToken);
        try
        {
            return Directory.EnumerateFiles(InstancesDir, "*.json")
                .Select(f => Path.GetFileNameWithoutExtension(f))
                .Where(id => prefix is null || id.StartsWith(prefix, StringComparison.Ordinal))
                .Order(StringComparer.Ordinal)
                .Select(id => (id, record: ReadRecord(id)))
                .Where(x => x.record is not null)
                .Select(x => Status(x.id, x.record!))
                .ToList();
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<VolumeInfo> CreateVolumeAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await LockAsync(cancellationToken);
        try
        {
            Directory.CreateDirectory(VolumeData(workspaceId));
            return Volume(workspaceId);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<bool> DeleteVolumeAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await LockAsync(cancellationToken);
        try
        {
            if (!Directory.Exists(VolumeDir(workspaceId)))
            {
                return false;
            }
            if (File.Exists(RecordPath(workspaceId)))
            {
                throw RuntimeException.VolumeInUse(workspaceId);
            }
            Directory.Delete(VolumeDir(workspaceId), recursive: true);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<VolumeInfo?> GetVolumeAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await LockAsync(cancellationToken);
        try
        {
            return Directory.Exists(VolumeData(workspaceId)) ? Volume(workspaceId) : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<IReadOnlyList<VolumeInfo>> ListVolumesAsync(CancellationToken cancellationToken)
    {
        await LockAsync(cancellationToken);
        try
        {
            return Directory.EnumerateDirectories(VolumesDir).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal).Select(Volume).ToList();
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task ArchiveVolumeAsync(string workspaceId, Stream destination, CancellationToken cancellationToken)
    {
        await LockAsync(cancellationToken);
        try
        {
            if (!Directory.Exists(VolumeData(workspaceId)))
            {
                throw RuntimeException.VolumeNotFound(workspaceId);
            }
            await using var gzip = new GZipStream(destination, CompressionLevel.Fastest, leaveOpen: true);
            if (Directory.EnumerateFileSystemEntries(VolumeData(workspaceId)).Any())
            {
                await TarFile.CreateFromDirectoryAsync(VolumeData(workspaceId), gzip, includeBaseDirectory: false, cancellationToken);
            }
            else
            {
                // .NET writes nothing for an empty folder; a tar reader expects the end-of-archive blocks.
                await gzip.WriteAsync(new byte[1024], cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task RestoreVolumeAsync(string workspaceId, Stream source, CancellationToken cancellationToken)
    {
        await LockAsync(cancellationToken);
        try
        {
            if (File.Exists(RecordPath(workspaceId)))
            {
                throw RuntimeException.VolumeInUse(workspaceId);
            }
            var data = VolumeData(workspaceId);
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
            Directory.CreateDirectory(data);
            try
            {
                // An empty folder archives to a tar with no entries, which reads back as an empty stream.
                await using var gzip = new GZipStream(source, CompressionMode.Decompress, leaveOpen: true);
                await using var tar = new FileStream(Path.Combine(VolumeDir(workspaceId), "restore.tar"), FileMode.Create, FileAccess.ReadWrite,
                    FileShare.None, 81920, FileOptions.DeleteOnClose);
                await gzip.CopyToAsync(tar, cancellationToken);
                if (tar.Length > 0)
                {
                    tar.Position = 0;
                    await TarFile.ExtractToDirectoryAsync(tar, data, overwriteFiles: true, cancellationToken);
                }
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or IOException)
            {
                throw new RuntimeException(RuntimeErrorKind.Invalid, $"the archive is not a readable tar.gz: {e.Message}", e);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task<RuntimeProbe> ProbeAsync(CancellationToken cancellationToken) =>
        Task.FromResult(Directory.Exists(_options.Root)
            ? new RuntimeProbe(true)
            : new RuntimeProbe(false, $"the fake runtime's root {_options.Root} is gone"));

    /// <summary>Waits for the gate; the first caller brings back the instances a previous runtime left running.</summary>
    private async Task LockAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        if (_recovered)
        {
            return;
        }
        _recovered = true;
        foreach (var file in Directory.EnumerateFiles(InstancesDir, "*.json"))
        {
            var id = Path.GetFileNameWithoutExtension(file);
            if (Directory.Exists(VolumeData(id)))
            {
                await StartServerAsync(id, cancellationToken);
            }
        }
    }

    private async Task StartServerAsync(string workspaceId, CancellationToken cancellationToken) =>
        _servers[workspaceId] = await FakeInstanceServer.StartAsync(_options.Host, 0, VolumeData(workspaceId), cancellationToken);

    private async Task StopServerAsync(string workspaceId)
    {
        if (_servers.Remove(workspaceId, out var server))
        {
            await server.DisposeAsync();
        }
    }

    private InstanceRecord? ReadRecord(string workspaceId)
    {
        var path = RecordPath(workspaceId);
        return File.Exists(path) ? JsonSerializer.Deserialize<InstanceRecord>(File.ReadAllText(path)) : null;
    }

    private InstanceStatus Status(string workspaceId, InstanceRecord record) =>
        _servers.TryGetValue(workspaceId, out var server)
            ? new InstanceStatus(workspaceId, InstanceState.Running, record.Image, server.Address.AbsoluteUri.TrimEnd('/'), StartedAt: record.StartedAt)
            : new InstanceStatus(workspaceId, InstanceState.Stopped, record.Image, Message: "the instance's server is not running (its volume is gone)", StartedAt: record.StartedAt);

    private VolumeInfo Volume(string workspaceId) =>
        new(workspaceId, WorkspaceIds.VolumeName(workspaceId), Directory.GetCreationTimeUtc(VolumeDir(workspaceId)));

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _servers.Keys.ToList())
        {
            await StopServerAsync(id);
        }
        _gate.Dispose();
    }

    /// <summary>Hosts disposed with <c>using</c> dispose synchronously; the servers stop either way.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private sealed record InstanceRecord(string Image, int Port, string MountPath, DateTimeOffset StartedAt);
}
