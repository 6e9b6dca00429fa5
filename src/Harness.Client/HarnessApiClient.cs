using System.Globalization;
using System.Text;
using Harness.Contracts;
using Harness.Contracts.Dashboard;
using Harness.Contracts.Devices;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Jobs;
using Harness.Contracts.Nodes;
using Harness.Contracts.Runs;
using Harness.Contracts.Workflows;

namespace Harness.Client;

/// <summary>
/// What an operator (the CLI, a script) asks of the server: workflows, runs, devices, scans, the
/// dashboard, command assets and playbooks. Every call sends the operator token as a bearer token;
/// an error answer throws <see cref="HarnessApiException"/> with the problem+json detail and field errors.
/// </summary>
public sealed class HarnessApiClient(HttpClient http, string? token)
{
    private static HarnessJsonContext Json => HarnessHttp.Json;

    // Workflows

    public Task<WorkflowCreatedResponse> PushWorkflowAsync(WorkflowDefinition definition, CancellationToken cancellationToken = default) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, Routes.Workflows, definition, token, Json.WorkflowDefinition, Json.WorkflowCreatedResponse, cancellationToken);

    /// <summary>Posts a workflow file as written, so the server validates exactly what the operator wrote (unknown fields included).</summary>
    public Task<WorkflowCreatedResponse> PushWorkflowJsonAsync(string json, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Routes.Workflows) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        return SendOwnedAsync(request, Json.WorkflowCreatedResponse, cancellationToken);
    }

    public Task<IReadOnlyList<WorkflowView>> ListWorkflowsAsync(string? name = null, CancellationToken cancellationToken = default) =>
        HarnessHttp.GetAsync(http, Routes.Workflows + Query(("name", name)), token, Json.IReadOnlyListWorkflowView, cancellationToken);

    public Task<IReadOnlyList<WorkflowVersionView>> ListWorkflowVersionsAsync(Guid workflowId, CancellationToken cancellationToken = default) =>
        HarnessHttp.GetAsync(http, $"{Routes.Workflows}/{workflowId}/versions", token, Json.IReadOnlyListWorkflowVersionView, cancellationToken);

    public Task<WorkflowVersionView> GetWorkflowVersionAsync(Guid workflowId, int version, CancellationToken cancellationToken = default) =>
        HarnessHttp.GetAsync(http, $"{Routes.Workflows}/{workflowId}/versions/{version.ToString(CultureInfo.InvariantCulture)}", token, Json.WorkflowVersionView, cancellationToken);

    // Runs

    public Task<RunCreatedResponse> CreateRunAsync(CreateRunRequest request, CancellationToken cancellationToken = default) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, Routes.Runs, request, token, Json.CreateRunRequest, Json.RunCreatedResponse, cancellationToken);

    public Task<Page<RunSummary>> ListRunsAsync(
        string? status = null, Guid? workflowId = null, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        HarnessHttp.GetAsync(http,
            Routes.Runs + Query(("status", status), ("workflow_id", workflowId?.ToString()), ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("cursor", cursor)),
            token, Json.PageRunSummary, cancellationToken);

    public Task<RunDetail> GetRunAsync(Guid runId, CancellationToken cancellationToken = default) =>
        HarnessHttp.GetAsync(http, $"{Routes.Runs}/{runId}", token, Json.RunDetail, cancellationToken);

    /// <summary>Cancels the run's devices that have not ended; returns the run as it stands.</summary>
    public Task<RunSummary> CancelRunAsync(Guid runId, CancellationToken cancellationToken = default) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, $"{Routes.Runs}/{runId}/cancel", token, Json.RunSummary, cancellationToken);

    // Devices and nodes

    public Task<IReadOnlyList<DeviceView>> ListDevicesAsync(CancellationToken cancellationToken = default) =>
        HarnessHttp.GetAsync(http, Routes.Devices, token, Json.IReadOnlyListDeviceView, cancellationToken);

    public Task<NodeStatusResponse> GetNodeStatusAsync(CancellationToken cancellationToken = default) =>
        HarnessHttp.GetAsync(http, Routes.NodesStatus, token, Json.NodeStatusResponse, cancellationToken);

    /// <summary>Asks one node (or every node when <paramref name="nodeId"/> is null) to rescan its devices.</summary>
    public Task<IReadOnlyList<ScanJobView>> ScanAsync(string? nodeId = null, CancellationToken cancellationToken = default) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, Routes.NodesScan, new ScanRequest(nodeId), token, Json.ScanRequest, Json.IReadOnlyListScanJobView, cancellationToken);

    public Task<DashboardResponse> GetDashboardAsync(string window = "24h", CancellationToken cancellationToken = default) =>
        HarnessHttp.GetAsync(http, Routes.Dashboard + Query(("window", window)), token, Json.DashboardResponse, cancellationToken);

    // Command assets

    public Task<IReadOnlyList<CommandAssetView>> ListCommandAssetsAsync(CancellationToken cancellationToken = default) =>
        HarnessHttp.GetAsync(http, Routes.CommandAssets, token, Json.IReadOnlyListCommandAssetView, cancellationToken);

    public Task<CommandAssetView> GetCommandAssetAsync(Guid id, CancellationToken cancellationToken = default) =>
        HarnessHttp.GetAsync(http, $"{Routes.CommandAssets}/{id}", token, Json.CommandAssetView, cancellationToken);

    public Task<CommandAssetView> CreateCommandAssetAsync(CommandAssetRequest request, CancellationToken cancellationToken = default) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, Routes.CommandAssets, request, token, Json.CommandAssetRequest, Json.CommandAssetView, cancellationToken);

    public Task<CommandAssetView> UpdateCommandAssetAsync(Guid id, CommandAssetRequest request, CancellationToken cancellationToken = default) =>
        HarnessHttp.SendAsync(http, HttpMethod.Put, $"{Routes.CommandAssets}/{id}", request, token, Json.CommandAssetRequest, Json.CommandAssetView, cancellationToken);

    public Task DeleteCommandAssetAsync(Guid id, CancellationToken cancellationToken = default) =>
        HarnessHttp.SendAsync(http, HttpMethod.Delete, $"{Routes.CommandAssets}/{id}", token, cancellationToken);

    // Playbooks

    public Task<IReadOnlyList<PlaybookView>> ListPlaybooksAsync(CancellationToken cancellationToken = default) =>
        HarnessHttp.GetAsync(http, Routes.Playbooks, token, Json.IReadOnlyListPlaybookView, cancellationToken);

    public Task<PlaybookView> GetPlaybookAsync(Guid id, CancellationToken cancellationToken = default) =>
        HarnessHttp.GetAsync(http, $"{Routes.Playbooks}/{id}", token, Json.PlaybookView, cancellationToken);

    public Task<PlaybookView> CreatePlaybookAsync(PlaybookRequest request, CancellationToken cancellationToken = default) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, Routes.Playbooks, request, token, Json.PlaybookRequest, Json.PlaybookView, cancellationToken);

    public Task<PlaybookView> UpdatePlaybookAsync(Guid id, PlaybookRequest request, CancellationToken cancellationToken = default) =>
        HarnessHttp.SendAsync(http, HttpMethod.Put, $"{Routes.Playbooks}/{id}", request, token, Json.PlaybookRequest, Json.PlaybookView, cancellationToken);

    public Task DeletePlaybookAsync(Guid id, CancellationToken cancellationToken = default) =>
        HarnessHttp.SendAsync(http, HttpMethod.Delete, $"{Routes.Playbooks}/{id}", token, cancellationToken);

    /// <summary>Previews the workflow a device would run for a seed.</summary>
    public Task<PlaybookCompileResponse> CompilePlaybookAsync(Guid id, PlaybookCompileRequest request, CancellationToken cancellationToken = default) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, $"{Routes.Playbooks}/{id}/compile", request, token, Json.PlaybookCompileRequest, Json.PlaybookCompileResponse, cancellationToken);

    // Jobs

    /// <summary>Queues a sandbox job; the answer never carries secret values.</summary>
    public Task<JobDetail> CreateJobAsync(CreateJobRequest request, CancellationToken cancellationToken = default) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, Routes.ApiJobs, request, token, Json.CreateJobRequest, Json.JobDetail, cancellationToken);

    public Task<JobDetail> GetJobAsync(Guid id, CancellationToken cancellationToken = default) =>
        HarnessHttp.GetAsync(http, $"{Routes.ApiJobs}/{id}", token, Json.JobDetail, cancellationToken);

    public Task<Page<JobView>> ListJobsAsync(
        string? status = null, string? type = null, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        HarnessHttp.GetAsync(http,
            Routes.ApiJobs + Query(("status", status), ("type", type), ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("cursor", cursor)),
            token, Json.PageJobView, cancellationToken);

    public Task<JobDetail> CancelJobAsync(Guid id, CancellationToken cancellationToken = default) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, $"{Routes.ApiJobs}/{id}/cancel", token, Json.JobDetail, cancellationToken);

    /// <summary>
    /// The job's output lines after <paramref name="afterSeq"/>; with <paramref name="follow"/> the stream stays open until
    /// the job ends. A dropped connection ends the enumeration: resume with the last seq seen.
    /// </summary>
    public async IAsyncEnumerable<JobLogLine> ReadJobLogsAsync(
        Guid id, bool follow, long? afterSeq = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var path = $"{Routes.ApiJobs}/{id}/logs" + Query(("format", "ndjson"), ("follow", follow ? "true" : null),
            ("after", afterSeq?.ToString(CultureInfo.InvariantCulture)));
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new("Bearer", token);
        }
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await HarnessHttp.EnsureSuccessAsync(response, cancellationToken);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(body, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }
            if (System.Text.Json.JsonSerializer.Deserialize(line, Json.JobLogLine) is { } parsed)
            {
                yield return parsed;
            }
        }
    }

    private async Task<T> SendOwnedAsync<T>(HttpRequestMessage request, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using (request)
        {
            return await HarnessHttp.SendAsync(http, request, token, type, cancellationToken);
        }
    }

    private static string Query(params (string Name, string? Value)[] parameters)
    {
        var present = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return present.Count == 0 ? "" : "?" + string.Join('&', present);
    }
}
