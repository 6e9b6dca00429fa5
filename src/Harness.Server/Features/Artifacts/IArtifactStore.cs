namespace Harness.Server.Features.Artifacts;

/// <summary>
/// Where artifact bytes live, by relative path (<c>{subject}/{node_id}/{device_id}/{run_id}/{timestamp}.png</c>).
/// The filesystem store is the default (a PVC on Kubernetes); an S3-compatible store can implement this too.
/// </summary>
public interface IArtifactStore
{
    /// <summary>Stores <paramref name="content"/> at <paramref name="path"/>; never overwrites (the caller picks a free path).</summary>
    Task SaveAsync(string path, Stream content, CancellationToken cancellationToken);

    Task<bool> ExistsAsync(string path, CancellationToken cancellationToken);

    /// <summary>Opens the artifact for reading, or null when it is gone.</summary>
    Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken);

    /// <summary>Removes the artifact; nothing happens when it is gone already.</summary>
    Task DeleteAsync(string path, CancellationToken cancellationToken);
}
