using Harness.Contracts.Runtime;
using k8s;
using k8s.Models;

namespace Harness.Runtimes.Kubernetes;

public sealed partial class KubernetesWorkspaceRuntime
{
    public async Task<VolumeInfo> CreateVolumeAsync(string workspaceId, CancellationToken cancellationToken)
    {
        RequireId(workspaceId);
        var name = WorkspaceIds.VolumeName(workspaceId);
        while (true)
        {
            var created = await TryCreateAsync(
                "create persistentvolumeclaim " + name,
                (client, ct) => client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(_objects.Claim(workspaceId), Ns, cancellationToken: ct),
                cancellationToken);
            if (created is not null)
            {
                Log.ClaimCreated(_logger, workspaceId, Ns, _options.VolumeSize);
                return Info(workspaceId, created);
            }
            var existing = await FindClaimAsync(name, cancellationToken);
            if (existing is null)
            {
                continue; // deleted between the create and the read: create again
            }
            if (existing.Metadata.DeletionTimestamp is null)
            {
                return Info(workspaceId, existing);
            }
            // A deleted claim stays until the pvc-protection finalizer lets it go; a new one can only follow it.
            await WaitUntilGoneAsync("persistentvolumeclaim " + name, ct => FindClaimAsync(name, ct), cancellationToken);
        }
    }

    public async Task<bool> DeleteVolumeAsync(string workspaceId, CancellationToken cancellationToken)
    {
        RequireId(workspaceId);
        var name = WorkspaceIds.VolumeName(workspaceId);
        var claim = await FindClaimAsync(name, cancellationToken);
        if (claim is null || claim.Metadata.DeletionTimestamp is not null)
        {
            return false;
        }
        var selector = _objects.Selector(RuntimeLabels.RoleInstance, workspaceId);
        var pods = await CallAsync(
            "list pods",
            (client, ct) => client.CoreV1.ListNamespacedPodAsync(Ns, labelSelector: selector, cancellationToken: ct),
            cancellationToken);
        if (pods.Items.Count > 0)
        {
            throw RuntimeException.VolumeInUse(workspaceId);
        }
        var deleted = await FindAsync(
            "delete persistentvolumeclaim " + name,
            (client, ct) => client.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync(name, Ns, cancellationToken: ct),
            cancellationToken);
        if (deleted is not null)
        {
            Log.ClaimDeleted(_logger, workspaceId, Ns);
        }
        return deleted is not null;
    }

    /// <summary>The volume, unless it is missing or terminating (deleted, waiting for its finalizer).</summary>
    public async Task<VolumeInfo?> GetVolumeAsync(string workspaceId, CancellationToken cancellationToken)
    {
        RequireId(workspaceId);
        var claim = await FindClaimAsync(WorkspaceIds.VolumeName(workspaceId), cancellationToken);
        return claim is null || claim.Metadata.DeletionTimestamp is not null ? null : Info(workspaceId, claim);
    }

    public async Task<IReadOnlyList<VolumeInfo>> ListVolumesAsync(CancellationToken cancellationToken)
    {
        var selector = _objects.Selector(RuntimeLabels.RoleVolume);
        var claims = await CallAsync(
            "list persistentvolumeclaims",
            (client, ct) => client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(Ns, labelSelector: selector, cancellationToken: ct),
            cancellationToken);
        return claims.Items
            .Where(c => c.Metadata.DeletionTimestamp is null)
            .Select(c => c.Metadata.Labels?.TryGetValue(RuntimeLabels.Workspace, out var id) == true && id is not null ? Info(id, c) : null)
            .OfType<VolumeInfo>()
            .OrderBy(v => v.WorkspaceId, StringComparer.Ordinal)
            .ToList();
    }

    private Task<V1PersistentVolumeClaim?> FindClaimAsync(string name, CancellationToken cancellationToken) =>
        FindAsync("read persistentvolumeclaim " + name,
            (client, ct) => client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync(name, Ns, cancellationToken: ct),
            cancellationToken);

    private static VolumeInfo Info(string workspaceId, V1PersistentVolumeClaim claim) => new(
        workspaceId,
        claim.Metadata.Name,
        claim.Metadata.CreationTimestamp is { } created ? new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) : null);
}
