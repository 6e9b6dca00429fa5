using System.Security.Cryptography;
using k8s;
using k8s.Models;

namespace Harness.Runtimes.Kubernetes;

public sealed partial class KubernetesWorkspaceRuntime
{
    public async Task ArchiveVolumeAsync(string workspaceId, Stream destination, CancellationToken cancellationToken)
    {
        RequireId(workspaceId);
        if (await GetVolumeAsync(workspaceId, cancellationToken) is null)
        {
            throw RuntimeException.VolumeNotFound(workspaceId);
        }
        // A running instance holds the ReadWriteOnce volume on its node; the job must run there too.
        var instance = await FindPodAsync(WorkspaceIds.InstanceName(workspaceId), cancellationToken);
        var affinity = instance is null ? null : KubernetesObjects.SameNodeAs(instance.Metadata.Labels);

        var name = JobName(RuntimeLabels.RoleArchive);
        var fileName = name + ".tar.gz";
        var path = Path.Combine(_options.ArchiveDir, fileName);
        try
        {
            await RunJobAsync(
                _objects.Job(name, workspaceId, RuntimeLabels.RoleArchive, KubernetesObjects.ArchiveScript(fileName), workspaceReadOnly: true, affinity),
                cancellationToken);
            if (!File.Exists(path))
            {
                throw new RuntimeException(RuntimeErrorKind.Failed,
                    $"archive job {name} succeeded but {path} is missing: is the '{_options.ArchivesClaimName}' PVC mounted at {_options.ArchiveDir} in the agent?");
            }
            await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous))
            {
                await file.CopyToAsync(destination, cancellationToken);
            }
        }
        finally
        {
            DeleteFile(path);
            DeleteFile(path + ".partial");
        }
    }

    public async Task RestoreVolumeAsync(string workspaceId, Stream source, CancellationToken cancellationToken)
    {
        RequireId(workspaceId);
        if (await FindPodAsync(WorkspaceIds.InstanceName(workspaceId), cancellationToken) is not null)
        {
            throw RuntimeException.VolumeInUse(workspaceId);
        }
        await CreateVolumeAsync(workspaceId, cancellationToken);

        var name = JobName(RuntimeLabels.RoleRestore);
        var fileName = name + ".tar.gz";
        var path = Path.Combine(_options.ArchiveDir, fileName);
        try
        {
            Directory.CreateDirectory(_options.ArchiveDir);
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                await source.CopyToAsync(file, cancellationToken);
            }
            await RunJobAsync(
                _objects.Job(name, workspaceId, RuntimeLabels.RoleRestore, KubernetesObjects.RestoreScript(fileName), workspaceReadOnly: false, affinity: null),
                cancellationToken);
        }
        finally
        {
            DeleteFile(path);
        }
    }

    /// <summary>Creates the job, polls it until Complete or Failed, and deletes it (and its pod) either way.</summary>
    private async Task RunJobAsync(V1Job job, CancellationToken cancellationToken)
    {
        var name = job.Metadata.Name;
        var workspaceId = job.Metadata.Labels[RuntimeLabels.Workspace];
        await CallAsync("create job " + name, (client, ct) => client.BatchV1.CreateNamespacedJobAsync(job, Ns, cancellationToken: ct), cancellationToken);
        Log.JobCreated(_logger, name, workspaceId, Ns);
        var started = _time.GetTimestamp();
        try
        {
            while (true)
            {
                await Task.Delay(_options.PollInterval, _time, cancellationToken);
                var current = await FindAsync("read job " + name, (client, ct) => client.BatchV1.ReadNamespacedJobAsync(name, Ns, cancellationToken: ct), cancellationToken)
                    ?? throw new RuntimeException(RuntimeErrorKind.Failed, $"job {name} was deleted before it finished");
                var conditions = current.Status?.Conditions ?? [];
                if (conditions.Any(c => c.Type == "Complete" && c.Status == "True"))
                {
                    Log.JobSucceeded(_logger, name, workspaceId, _time.GetElapsedTime(started).TotalMilliseconds);
                    return;
                }
                if (conditions.FirstOrDefault(c => c.Type == "Failed" && c.Status == "True") is { } failed)
                {
                    Log.JobFailed(_logger, name, workspaceId, failed.Reason, failed.Message);
                    throw new RuntimeException(RuntimeErrorKind.Failed,
                        $"job {name} failed ({failed.Reason}): {failed.Message}; its pod's log says why (kubectl -n {Ns} logs job/{name} before it is deleted)");
                }
                if (_time.GetElapsedTime(started) >= _options.JobTimeout)
                {
                    throw new RuntimeException(RuntimeErrorKind.Failed,
                        $"job {name} did not finish within {_options.JobTimeout.TotalSeconds:0}s");
                }
            }
        }
        finally
        {
            // Background: the API server removes the job now and the garbage collector its pod.
            try
            {
                await FindAsync(
                    "delete job " + name,
                    (client, ct) => client.BatchV1.DeleteNamespacedJobAsync(name, Ns, propagationPolicy: "Background", cancellationToken: ct),
                    CancellationToken.None);
            }
            catch (RuntimeException e)
            {
                // Its ttlSecondsAfterFinished removes it later; the job's own outcome is what the caller needs.
                Log.JobNotDeleted(_logger, name, e.Message);
            }
        }
    }

    private static string JobName(string role) =>
        $"harness-{role}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5))}";

    private void DeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException e)
        {
            Log.ArchiveFileNotDeleted(_logger, path, e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            Log.ArchiveFileNotDeleted(_logger, path, e.Message);
        }
    }
}
