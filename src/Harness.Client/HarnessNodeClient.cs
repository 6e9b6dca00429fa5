using System.Net.Http.Headers;
using Harness.Contracts;
using Harness.Contracts.Agents;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Jobs;
using Harness.Contracts.Nodes;
using Harness.Contracts.Runtime;

namespace Harness.Client;

/// <summary>What an agent says to the server: enroll once, then heartbeat, pull work, call back and upload artifacts.</summary>
public sealed class HarnessNodeClient(HttpClient http)
{
    public Task<AgentCredentialResponse> EnrollAsync(EnrollRequest request, string enrollmentSecret, CancellationToken cancellationToken) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, Routes.NodesEnroll, request, enrollmentSecret,
            HarnessHttp.Json.EnrollRequest, HarnessHttp.Json.AgentCredentialResponse, cancellationToken);

    public Task<HeartbeatResponse> HeartbeatAsync(HeartbeatRequest request, string apiKey, CancellationToken cancellationToken) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, Routes.NodesHeartbeat, request, apiKey,
            HarnessHttp.Json.HeartbeatRequest, HarnessHttp.Json.HeartbeatResponse, cancellationToken);

    /// <summary>Long-polls for device tasks and renews the leases of <see cref="PullRequest.Holds"/>.</summary>
    public Task<PullResponse> PullAsync(PullRequest request, string apiKey, CancellationToken cancellationToken) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, Routes.NodesPull, request, apiKey,
            HarnessHttp.Json.PullRequest, HarnessHttp.Json.PullResponse, cancellationToken);

    /// <summary>Hands back leased tasks that never started (the agent is stopping).</summary>
    public Task<ReleaseResponse> ReleaseAsync(ReleaseRequest request, string apiKey, CancellationToken cancellationToken) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, Routes.NodesRelease, request, apiKey,
            HarnessHttp.Json.ReleaseRequest, HarnessHttp.Json.ReleaseResponse, cancellationToken);

    /// <summary>Sends a batch of events; the server accepts or rejects the batch as a whole (400: a bad event).</summary>
    public Task<CallbackResponse> CallbackAsync(CallbackBatch batch, string apiKey, CancellationToken cancellationToken) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, Routes.NodesCallback, batch, apiKey,
            HarnessHttp.Json.CallbackBatch, HarnessHttp.Json.CallbackResponse, cancellationToken);

    /// <summary>
    /// Uploads one artifact as the raw request body; <paramref name="query"/> carries the
    /// <see cref="ArtifactUpload"/> fields (event_id makes a retry idempotent).
    /// </summary>
    public async Task UploadArtifactAsync(
        Stream content, string contentType, IReadOnlyDictionary<string, string> query, string apiKey, CancellationToken cancellationToken)
    {
        var path = Routes.NodesArtifacts + "?" + string.Join('&',
            query.Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value)}"));
        using var body = new StreamContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body };
        request.Headers.Authorization = new("Bearer", apiKey);
        using var response = await http.SendAsync(request, cancellationToken);
        await HarnessHttp.EnsureSuccessAsync(response, cancellationToken);
    }

    public Task UploadArtifactAsync(
        byte[] content, string contentType, IReadOnlyDictionary<string, string> query, string apiKey, CancellationToken cancellationToken) =>
        UploadArtifactAsync(new MemoryStream(content, writable: false), contentType, query, apiKey, cancellationToken);

    /// <summary>Uploads a workspace archive (tar.gz) the server asked this agent for (<c>PUT /api/nodes/archives/{id}</c>).</summary>
    public async Task UploadArchiveAsync(string archiveId, Stream content, string apiKey, CancellationToken cancellationToken)
    {
        using var body = new StreamContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
        using var request = new HttpRequestMessage(HttpMethod.Put, RuntimeRoutes.NodeArchive(archiveId)) { Content = body };
        request.Headers.Authorization = new("Bearer", apiKey);
        using var response = await http.SendAsync(request, cancellationToken);
        await HarnessHttp.EnsureSuccessAsync(response, cancellationToken);
    }

    /// <summary>Downloads a workspace archive into <paramref name="destination"/> (<c>GET /api/nodes/archives/{id}</c>).</summary>
    public async Task DownloadArchiveAsync(string archiveId, Stream destination, string apiKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, RuntimeRoutes.NodeArchive(archiveId));
        request.Headers.Authorization = new("Bearer", apiKey);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await HarnessHttp.EnsureSuccessAsync(response, cancellationToken);
        await response.Content.CopyToAsync(destination, cancellationToken);
    }

    /// <summary>Long-polls for sandbox jobs, renewing the leases of <see cref="ClaimJobsRequest.Running"/>.</summary>
    public Task<ClaimJobsResponse> ClaimJobsAsync(ClaimJobsRequest request, string apiKey, CancellationToken cancellationToken) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, Routes.NodesJobsClaim, request, apiKey,
            HarnessHttp.Json.ClaimJobsRequest, HarnessHttp.Json.ClaimJobsResponse, cancellationToken);

    /// <summary>Reports a job's start and/or output lines; the answer says whether to cancel it.</summary>
    public Task<JobEventsResponse> JobEventsAsync(Guid jobId, JobEventsRequest request, string apiKey, CancellationToken cancellationToken) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, $"{Routes.NodesJobs}/{jobId}/events", request, apiKey,
            HarnessHttp.Json.JobEventsRequest, HarnessHttp.Json.JobEventsResponse, cancellationToken);

    /// <summary>Reports how a job ended (idempotent).</summary>
    public Task<JobDetail> CompleteJobAsync(Guid jobId, CompleteJobRequest request, string apiKey, CancellationToken cancellationToken) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, $"{Routes.NodesJobs}/{jobId}/complete", request, apiKey,
            HarnessHttp.Json.CompleteJobRequest, HarnessHttp.Json.JobDetail, cancellationToken);

    /// <summary>Uploads one artifact file of a job under its workspace-relative <paramref name="name"/>.</summary>
    public async Task UploadJobArtifactAsync(Guid jobId, string name, Stream content, string apiKey, CancellationToken cancellationToken)
    {
        using var body = new StreamContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{Routes.NodesJobs}/{jobId}/artifacts?name={Uri.EscapeDataString(name)}") { Content = body };
        request.Headers.Authorization = new("Bearer", apiKey);
        using var response = await http.SendAsync(request, cancellationToken);
        await HarnessHttp.EnsureSuccessAsync(response, cancellationToken);
    }
}
