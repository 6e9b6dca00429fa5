using Harness.Agent.Inventory;
using Harness.Agent.Workspaces;
using Harness.Client;
using Harness.Contracts.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Listener;

/// <summary>
/// Sends a heartbeat every <see cref="AgentOptions.HeartbeatIntervalSec"/>. While the server is
/// unreachable it retries with exponential backoff and jitter, logging every retry, and returns to
/// the normal interval after the first success. Every wait goes through the injected TimeProvider.
/// </summary>
public sealed partial class HeartbeatLoop(
    IOptions<AgentOptions> options,
    AgentCredentials credentials,
    HarnessNodeClient client,
    IDeviceInventory inventory,
    AgentStatus status,
    RuntimeApiState runtimeApi,
    IOptions<WorkspacesOptions> workspaces,
    Backoff backoff,
    TimeProvider time,
    ILogger<HeartbeatLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.HeartbeatIntervalSec);
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan delay;
            try
            {
                await BeatAsync(stoppingToken);
                if (status.ConsecutiveFailures > 0)
                {
                    LogRecovered(logger, options.Value.ServerUrl, status.ConsecutiveFailures);
                }
                status.ConsecutiveFailures = 0;
                delay = interval;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                status.ConsecutiveFailures++;
                delay = backoff.Next(status.ConsecutiveFailures);
                if (e is AgentConfigurationException or HarnessApiException { Status: System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden })
                {
                    LogRejected(logger, options.Value.ServerUrl, status.ConsecutiveFailures, delay.TotalSeconds, e.Message);
                }
                else
                {
                    LogRetry(logger, options.Value.ServerUrl, status.ConsecutiveFailures, delay.TotalSeconds, e.Message);
                }
            }
            try
            {
                await Task.Delay(delay, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        var key = await credentials.GetKeyAsync(cancellationToken);
        var o = options.Value;
        var request = new HeartbeatRequest(
            Version: AgentVersion.Current,
            VendorWsOk: inventory.VendorConnectionOk,
            CurrentLoad: status.CurrentLoad,
            // Capacity counts what the server places here: workspaces on a workspace agent, else the
            // device tasks a devices node runs at once (MaxConcurrency).
            Capacity: runtimeApi.Endpoint is not null ? workspaces.Value.Capacity : o.Devices.Enabled ? o.Devices.MaxConcurrency : o.Capacity,
            Runtimes: o.Runtimes,
            Endpoint: runtimeApi.Endpoint?.AbsoluteUri,
            Devices: await inventory.SnapshotAsync(cancellationToken),
            Region: o.Region,
            Labels: o.Labels.Count > 0 ? o.Labels : null);
        var response = await client.HeartbeatAsync(request, key, cancellationToken);
        status.AgentId = response.AgentId;
        runtimeApi.Set(response.RuntimeKey);
        status.LastHeartbeatAt = time.GetUtcNow();
        LogBeat(logger, response.NodeId, response.DevicesAccepted);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "[node_id={NodeId}] Heartbeat accepted with {Devices} device(s)")]
    private static partial void LogBeat(ILogger logger, string nodeId, int devices);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat to {Server} failed (attempt {Attempt}); retrying in {DelaySec:F1}s: {Reason}")]
    private static partial void LogRetry(ILogger logger, string server, int attempt, double delaySec, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Heartbeat to {Server} refused (attempt {Attempt}); retrying in {DelaySec:F1}s: {Reason}")]
    private static partial void LogRejected(ILogger logger, string server, int attempt, double delaySec, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Heartbeat to {Server} succeeded again after {Failures} failure(s)")]
    private static partial void LogRecovered(ILogger logger, string server, int failures);
}
