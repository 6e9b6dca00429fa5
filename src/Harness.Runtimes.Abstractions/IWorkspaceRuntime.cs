using Harness.Contracts.Runtime;

namespace Harness.Runtimes;

/// <summary>
/// A backend that runs workspaces: an instance (container, pod) from an image with the
/// workspace's volume mounted, reached at an upstream URL. The agent serves this interface as
/// the Runtime Agent API; every implementation passes the same conformance suite.
/// </summary>
/// <remarks>
/// Every method is idempotent where the API is: starting a running instance returns its status,
/// deleting what does not exist is not an error. Failures are <see cref="RuntimeException"/>s
/// whose <see cref="RuntimeErrorKind"/> the API maps to one HTTP status for every backend.
/// Resources carry <see cref="RuntimeLabels"/> so a restarted agent finds them again.
/// </remarks>
public interface IWorkspaceRuntime
{
    /// <summary>docker, kubernetes, fake.</summary>
    string Name { get; }

    /// <summary>
    /// Starts the workspace's instance. The volume must exist (<see cref="RuntimeErrorKind.NotFound"/>
    /// otherwise); an unknown image is <see cref="RuntimeErrorKind.ImageNotFound"/>. A running
    /// instance of the same image is returned as it is; a stopped one is replaced.
    /// </summary>
    Task<InstanceStatus> StartInstanceAsync(string workspaceId, InstanceSpec spec, CancellationToken cancellationToken);

    /// <summary>Stops and removes the instance; the volume stays. False when there was none.</summary>
    Task<bool> DeleteInstanceAsync(string workspaceId, CancellationToken cancellationToken);

    /// <summary>The instance's state; <see cref="InstanceState.NotFound"/> when there is none.</summary>
    Task<InstanceStatus> GetInstanceAsync(string workspaceId, CancellationToken cancellationToken);

    /// <summary>Every instance this agent manages whose workspace id starts with <paramref name="prefix"/>.</summary>
    Task<IReadOnlyList<InstanceStatus>> ListInstancesAsync(string? prefix, CancellationToken cancellationToken);

    /// <summary>Creates the workspace's volume; returns the existing one when there is one.</summary>
    Task<VolumeInfo> CreateVolumeAsync(string workspaceId, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the volume and its data. False when there was none; <see cref="RuntimeErrorKind.Conflict"/>
    /// while an instance still uses it.
    /// </summary>
    Task<bool> DeleteVolumeAsync(string workspaceId, CancellationToken cancellationToken);

    Task<VolumeInfo?> GetVolumeAsync(string workspaceId, CancellationToken cancellationToken);

    Task<IReadOnlyList<VolumeInfo>> ListVolumesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Writes the volume's files to <paramref name="destination"/> as a gzip-compressed tar. Runs
    /// as a job of the backend (a helper container, a Kubernetes Job); the instance may be running.
    /// </summary>
    Task ArchiveVolumeAsync(string workspaceId, Stream destination, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the volume's files with those of the tar.gz in <paramref name="source"/>, creating the
    /// volume when needed. <see cref="RuntimeErrorKind.Conflict"/> while an instance uses the volume.
    /// </summary>
    Task RestoreVolumeAsync(string workspaceId, Stream source, CancellationToken cancellationToken);

    /// <summary>Whether the backend answers (engine ping, API server version).</summary>
    Task<RuntimeProbe> ProbeAsync(CancellationToken cancellationToken);
}

/// <summary>What to run: the validated form of <see cref="InstanceStartRequest"/>.</summary>
public sealed record InstanceSpec(
    string Image,
    int Port,
    IReadOnlyDictionary<string, string> Env,
    string MountPath,
    ResourceLimits Resources)
{
    public const int DefaultPort = 8080;
    public const string DefaultMountPath = "/workspace";
}

public sealed record RuntimeProbe(bool Healthy, string? Message = null);

/// <summary>
/// A workspace runtime whose volumes a sandbox job on the same agent can mount: as a host directory, a Docker
/// named volume, or both. Runtimes whose volumes live elsewhere (Kubernetes PVCs) do not implement it.
/// </summary>
public interface IWorkspaceVolumeSource
{
    /// <summary>Where the workspace's volume is, or null when it does not exist.</summary>
    Task<WorkspaceVolumeMount?> GetVolumeMountAsync(string workspaceId, CancellationToken cancellationToken);
}

/// <param name="HostPath">The volume's data as a directory on this host, when it is reachable so.</param>
/// <param name="DockerVolume">The Docker named volume, when the volume is one.</param>
public sealed record WorkspaceVolumeMount(string? HostPath, string? DockerVolume);
