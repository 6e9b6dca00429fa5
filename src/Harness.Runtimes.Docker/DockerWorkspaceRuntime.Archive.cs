using System.Collections.Concurrent;
using System.Formats.Tar;
using System.Net;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Harness.Runtimes.Docker;

public sealed partial class DockerWorkspaceRuntime
{
    /// <summary>The helper image the runtime imports itself when none is configured: one empty directory.</summary>
    internal const string BuiltInHelperImage = "harness/volume-helper:1";

    /// <summary>Where a helper container mounts the volume.</summary>
    private const string HelperMountPath = "/data";

    /// <summary>Helper containers of jobs running in this process; any other helper is a leftover.</summary>
    private readonly ConcurrentDictionary<string, byte> _activeHelpers = new(StringComparer.Ordinal);

    public async Task ArchiveVolumeAsync(string workspaceId, Stream destination, CancellationToken cancellationToken)
    {
        CheckId(workspaceId);
        await GuardAsync($"archiving the volume of workspace {workspaceId}", async () =>
        {
            if (await InspectVolumeOrNullAsync(WorkspaceIds.VolumeName(workspaceId), cancellationToken) is null)
            {
                throw RuntimeException.VolumeNotFound(workspaceId);
            }
            // The volume is mounted read-only: the archive can run beside the instance and never writes.
            await WithHelperAsync(workspaceId, RuntimeLabels.RoleArchive, readOnly: true, async helper =>
            {
                var archive = await Client.Containers.GetArchiveFromContainerAsync(helper,
                    new ContainerPathStatParameters { Path = HelperMountPath }, statOnly: false, cancellationToken);
                await using var response = archive.Stream
                    ?? throw new RuntimeException(RuntimeErrorKind.Failed, "the engine returned no archive stream");
                // The engine's tar is read to a file first: the client's chunked stream fails on the many small
                // reads a tar reader makes, and a seekable tar lets the rewrite stream each file without copying it.
                await using var tar = TempFile("archive");
                await response.CopyToAsync(tar, cancellationToken);
                tar.Position = 0;
                var entries = await WorkspaceArchive.FromEngineTarAsync(tar, destination, cancellationToken);
                DockerRuntimeLog.VolumeArchived(_logger, workspaceId, entries);
            }, cancellationToken);
        }, cancellationToken);
    }

    public async Task RestoreVolumeAsync(string workspaceId, Stream source, CancellationToken cancellationToken)
    {
        CheckId(workspaceId);
        using var _ = await LockAsync(workspaceId, cancellationToken);
        await GuardAsync($"restoring the volume of workspace {workspaceId}", async () =>
        {
            if (await InspectContainerOrNullAsync(WorkspaceIds.InstanceName(workspaceId), cancellationToken) is not null)
            {
                throw RuntimeException.VolumeInUse(workspaceId);
            }
            // The archive is checked in full before the old files go: a bad upload leaves the volume as it was.
            await using var tar = TempFile("restore");
            var entries = await WorkspaceArchive.ToEngineTarAsync(source, tar, cancellationToken);
            tar.Position = 0;

            // Replacing the volume clears the old files without running anything inside it, so no shell is needed.
            await DeleteVolumeLockedAsync(workspaceId, cancellationToken);
            await CreateLabelledVolumeAsync(workspaceId, cancellationToken);
            await WithHelperAsync(workspaceId, RuntimeLabels.RoleRestore, readOnly: false, helper =>
                Client.Containers.ExtractArchiveToContainerAsync(helper,
                    new CopyToContainerParameters { Path = HelperMountPath }, tar, cancellationToken), cancellationToken);
            DockerRuntimeLog.VolumeRestored(_logger, workspaceId, entries);
        }, cancellationToken);
    }

    /// <summary>
    /// Creates a helper container with the volume mounted, runs <paramref name="job"/> against it and removes it
    /// whatever happened. The helper is never started: the engine's archive API works on created containers.
    /// </summary>
    private async Task WithHelperAsync(string workspaceId, string role, bool readOnly, Func<string, Task> job, CancellationToken cancellationToken)
    {
        var image = await EnsureHelperImageAsync(cancellationToken);
        var created = await Client.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Name = $"harness-{role}-{workspaceId}-{Guid.NewGuid().ToString("N")[..8]}",
            Image = image,
            Cmd = ["/harness-helper-never-started"],
            Labels = Labels(workspaceId, role),
            NetworkDisabled = true,
            HostConfig = new HostConfig
            {
                NetworkMode = "none",
                Privileged = false,
                // NoCopy: a helper image with files at the mount path must not seed them into a fresh volume.
                Mounts = [new Mount
                {
                    Type = "volume",
                    Source = WorkspaceIds.VolumeName(workspaceId),
                    Target = HelperMountPath,
                    ReadOnly = readOnly,
                    VolumeOptions = new VolumeOptions { NoCopy = true },
                }],
            },
        }, cancellationToken);
        _activeHelpers[created.ID] = 0;
        try
        {
            await job(created.ID);
        }
        finally
        {
            _activeHelpers.TryRemove(created.ID, out _);
            try
            {
                await Client.Containers.RemoveContainerAsync(created.ID, new ContainerRemoveParameters { Force = true }, CancellationToken.None);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                DockerRuntimeLog.HelperNotRemoved(_logger, created.ID, e);
            }
        }
    }

    private static FileStream TempFile(string purpose) =>
        new(Path.Combine(Path.GetTempPath(), $"harness-{purpose}-{Guid.NewGuid():N}.tar"), FileMode.CreateNew,
            FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);

    private async Task<string> EnsureHelperImageAsync(CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(_options.HelperImage))
        {
            await EnsureImageAsync(_options.HelperImage, cancellationToken);
            return _options.HelperImage;
        }
        try
        {
            await Client.Images.InspectImageAsync(BuiltInHelperImage, cancellationToken);
            return BuiltInHelperImage;
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
        }
        // An image needs a root filesystem; one empty directory (the mount point) is all a helper uses.
        using var rootfs = new MemoryStream();
        await using (var writer = new TarWriter(rootfs, TarEntryFormat.Pax, leaveOpen: true))
        {
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "data/"), cancellationToken);
        }
        rootfs.Position = 0;
        var separator = BuiltInHelperImage.LastIndexOf(':');
        await Client.Images.CreateImageAsync(new ImagesCreateParameters
        {
            FromSrc = "-",
            Repo = BuiltInHelperImage[..separator],
            Tag = BuiltInHelperImage[(separator + 1)..],
        }, rootfs, null, new Progress<JSONMessage>(), cancellationToken);
        DockerRuntimeLog.HelperImageImported(_logger, BuiltInHelperImage);
        return BuiltInHelperImage;
    }
}
