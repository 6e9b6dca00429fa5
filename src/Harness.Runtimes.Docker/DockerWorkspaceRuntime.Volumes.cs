using System.Globalization;
using System.Net;
using Docker.DotNet;
using Docker.DotNet.Models;
using Harness.Contracts.Runtime;
using VolumeInfo = Harness.Contracts.Runtime.VolumeInfo;

namespace Harness.Runtimes.Docker;

public sealed partial class DockerWorkspaceRuntime
{
    public async Task<VolumeInfo> CreateVolumeAsync(string workspaceId, CancellationToken cancellationToken)
    {
        CheckId(workspaceId);
        using var _ = await LockAsync(workspaceId, cancellationToken);
        return await GuardAsync($"creating the volume of workspace {workspaceId}", async () =>
        {
            var name = WorkspaceIds.VolumeName(workspaceId);
            if (await InspectVolumeOrNullAsync(name, cancellationToken) is { } existing)
            {
                return ToInfo(workspaceId, existing);
            }
            var created = await CreateLabelledVolumeAsync(workspaceId, cancellationToken);
            DockerRuntimeLog.VolumeCreated(_logger, workspaceId, name);
            return ToInfo(workspaceId, created);
        }, cancellationToken);
    }

    /// <summary>
    /// The named volume, for a sandbox job on this agent's engine; its mountpoint too, which is a host directory
    /// only when the engine runs on this host (the bubblewrap backend needs that).
    /// </summary>
    public async Task<WorkspaceVolumeMount?> GetVolumeMountAsync(string workspaceId, CancellationToken cancellationToken)
    {
        CheckId(workspaceId);
        return await GuardAsync($"finding the volume of workspace {workspaceId}", async () =>
            await InspectVolumeOrNullAsync(WorkspaceIds.VolumeName(workspaceId), cancellationToken) is { } volume
                ? new WorkspaceVolumeMount(Directory.Exists(volume.Mountpoint) ? volume.Mountpoint : null, volume.Name)
                : null, cancellationToken);
    }

    public async Task<bool> DeleteVolumeAsync(string workspaceId, CancellationToken cancellationToken)
    {
        CheckId(workspaceId);
        using var _ = await LockAsync(workspaceId, cancellationToken);
        return await GuardAsync($"deleting the volume of workspace {workspaceId}", () => DeleteVolumeLockedAsync(workspaceId, cancellationToken), cancellationToken);
    }

    public async Task<VolumeInfo?> GetVolumeAsync(string workspaceId, CancellationToken cancellationToken)
    {
        CheckId(workspaceId);
        return await GuardAsync($"reading the volume of workspace {workspaceId}", async () =>
            await InspectVolumeOrNullAsync(WorkspaceIds.VolumeName(workspaceId), cancellationToken) is { } volume
                ? ToInfo(workspaceId, volume)
                : null, cancellationToken);
    }

    public async Task<IReadOnlyList<VolumeInfo>> ListVolumesAsync(CancellationToken cancellationToken)
    {
        return await GuardAsync("listing volumes", async () =>
        {
            var listed = await Client.Volumes.ListAsync(new VolumesListParameters { Filters = LabelFilter(RuntimeLabels.RoleVolume) }, cancellationToken);
            return (IReadOnlyList<VolumeInfo>)[.. (listed.Volumes ?? [])
                .Where(v => v.Labels is not null && v.Labels.ContainsKey(RuntimeLabels.Workspace))
                .Select(v => ToInfo(v.Labels[RuntimeLabels.Workspace], v))
                .OrderBy(v => v.WorkspaceId, StringComparer.Ordinal)];
        }, cancellationToken);
    }

    private async Task<bool> DeleteVolumeLockedAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var name = WorkspaceIds.VolumeName(workspaceId);
        if (await InspectVolumeOrNullAsync(name, cancellationToken) is null)
        {
            return false;
        }
        var users = await Client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["volume"] = new Dictionary<string, bool> { [name] = true } },
        }, cancellationToken);
        foreach (var user in users)
        {
            var role = user.Labels is { } labels && labels.TryGetValue(RuntimeLabels.Role, out var r) ? r : null;
            var helper = role is RuntimeLabels.RoleArchive or RuntimeLabels.RoleRestore;
            if (!helper)
            {
                throw role == RuntimeLabels.RoleInstance
                    ? RuntimeException.VolumeInUse(workspaceId)
                    : new RuntimeException(RuntimeErrorKind.Conflict,
                        $"the volume of workspace {workspaceId} is in use by container {user.Names?.FirstOrDefault() ?? user.ID}");
            }
            if (_activeHelpers.ContainsKey(user.ID))
            {
                throw new RuntimeException(RuntimeErrorKind.Conflict, $"an archive or restore of workspace {workspaceId} is running; try again when it ended");
            }
            // A helper no job of ours runs: left over from an agent that died mid-job.
            await Client.Containers.RemoveContainerAsync(user.ID, new ContainerRemoveParameters { Force = true }, cancellationToken);
            DockerRuntimeLog.LeftoverHelperRemoved(_logger, workspaceId, user.Names?.FirstOrDefault() ?? user.ID);
        }
        try
        {
            await Client.Volumes.RemoveAsync(name, force: false, cancellationToken);
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            // Something started using it after the check (outside this agent's lock).
            throw new RuntimeException(RuntimeErrorKind.Conflict, $"the volume of workspace {workspaceId} is in use: {DockerErrors.EngineMessage(e)}", e);
        }
        DockerRuntimeLog.VolumeDeleted(_logger, workspaceId, name);
        return true;
    }

    private async Task<VolumeResponse> CreateLabelledVolumeAsync(string workspaceId, CancellationToken cancellationToken) =>
        await Client.Volumes.CreateAsync(new VolumesCreateParameters
        {
            Name = WorkspaceIds.VolumeName(workspaceId),
            Labels = Labels(workspaceId, RuntimeLabels.RoleVolume),
        }, cancellationToken);

    private async Task<VolumeResponse?> InspectVolumeOrNullAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await Client.Volumes.InspectAsync(name, cancellationToken);
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private static VolumeInfo ToInfo(string workspaceId, VolumeResponse volume) =>
        new(workspaceId, volume.Name,
            DateTimeOffset.TryParse(volume.CreatedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null);
}
