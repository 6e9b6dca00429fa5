using System.Net;
using Harness.Contracts;
using Harness.Contracts.Runtime;

namespace Harness.Client;

/// <summary>
/// The one client of the Runtime Agent API (DESIGN §6). The server reaches every workspace
/// backend through it, so a new backend is a new agent, never new server code.
/// Failures are <see cref="HarnessApiException"/>s carrying the agent's status and problem detail.
/// </summary>
public sealed class RuntimeAgentClient(HttpClient http, Uri endpoint, string apiKey)
{
    public Uri Endpoint { get; } = endpoint;

    public Task<InstanceStatus> StartInstanceAsync(string workspaceId, InstanceStartRequest request, CancellationToken cancellationToken) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, Url(RuntimeRoutes.InstanceStart(workspaceId)), request, apiKey,
            Json.InstanceStartRequest, Json.InstanceStatus, cancellationToken);

    /// <summary>Removes the instance; true when there was one (204), false when there was none (404).</summary>
    public Task<bool> DeleteInstanceAsync(string workspaceId, CancellationToken cancellationToken) =>
        DeleteAsync(RuntimeRoutes.Instance(workspaceId), cancellationToken);

    public Task<InstanceStatus> GetInstanceAsync(string workspaceId, CancellationToken cancellationToken) =>
        HarnessHttp.GetAsync(http, Url(RuntimeRoutes.InstanceStatus(workspaceId)), apiKey, Json.InstanceStatus, cancellationToken);

    public Task<UpstreamResponse> GetUpstreamAsync(string workspaceId, CancellationToken cancellationToken) =>
        HarnessHttp.GetAsync(http, Url(RuntimeRoutes.InstanceUpstream(workspaceId)), apiKey, Json.UpstreamResponse, cancellationToken);

    public Task<InstanceList> ListInstancesAsync(string? prefix, CancellationToken cancellationToken) =>
        HarnessHttp.GetAsync(http,
            Url(prefix is null ? RuntimeRoutes.Instances : $"{RuntimeRoutes.Instances}?prefix={Uri.EscapeDataString(prefix)}"),
            apiKey, Json.InstanceList, cancellationToken);

    public async Task<VolumeInfo> CreateVolumeAsync(string workspaceId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url(RuntimeRoutes.Volume(workspaceId)));
        return await HarnessHttp.SendAsync(http, request, apiKey, Json.VolumeInfo, cancellationToken);
    }

    public Task<bool> DeleteVolumeAsync(string workspaceId, CancellationToken cancellationToken) =>
        DeleteAsync(RuntimeRoutes.Volume(workspaceId), cancellationToken);

    public Task<VolumeExistsResponse> VolumeExistsAsync(string workspaceId, CancellationToken cancellationToken) =>
        HarnessHttp.GetAsync(http, Url(RuntimeRoutes.VolumeExists(workspaceId)), apiKey, Json.VolumeExistsResponse, cancellationToken);

    public Task<VolumeList> ListVolumesAsync(CancellationToken cancellationToken) =>
        HarnessHttp.GetAsync(http, Url(RuntimeRoutes.Volumes), apiKey, Json.VolumeList, cancellationToken);

    /// <summary>Archives the volume and uploads it to the server as <paramref name="archiveId"/>; returns when done.</summary>
    public Task<ArchiveJobResult> ArchiveAsync(string workspaceId, string archiveId, CancellationToken cancellationToken) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, Url(RuntimeRoutes.ArchiveJobs), new ArchiveJobRequest(workspaceId, archiveId), apiKey,
            Json.ArchiveJobRequest, Json.ArchiveJobResult, cancellationToken);

    /// <summary>Downloads archive <paramref name="archiveId"/> from the server into the volume; returns when done.</summary>
    public Task<ArchiveJobResult> RestoreAsync(string workspaceId, string archiveId, CancellationToken cancellationToken) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, Url(RuntimeRoutes.RestoreJobs), new ArchiveJobRequest(workspaceId, archiveId), apiKey,
            Json.ArchiveJobRequest, Json.ArchiveJobResult, cancellationToken);

    public Task<RuntimeHealth> GetHealthAsync(CancellationToken cancellationToken) =>
        HarnessHttp.GetAsync(http, Url(RuntimeRoutes.Health), apiKey, Json.RuntimeHealth, cancellationToken);

    private async Task<bool> DeleteAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            await HarnessHttp.SendAsync(http, HttpMethod.Delete, Url(path), apiKey, cancellationToken);
            return true;
        }
        catch (HarnessApiException e) when (e.Status == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    /// <summary>The endpoint may carry a path (an agent behind a tunnel at <c>https://host/agents/pc-01</c>): routes go under it.</summary>
    private string Url(string path) => Endpoint.AbsoluteUri.TrimEnd('/') + path;

    private static HarnessJsonContext Json => HarnessHttp.Json;
}
