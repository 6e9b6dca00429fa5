using Harness.Agent.Inventory;
using Harness.Contracts.Nodes;
using Harness.Runtimes.Devices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Execution;

/// <summary>
/// Every <see cref="DevicesOptions.ProbeIntervalSec"/> (and once at boot): checks the backend (gate 3),
/// refreshes the device list and pings every idle device that is listed ready, feeding
/// <see cref="DeviceHealth"/> so devices that only look alive get quarantined.
/// </summary>
public sealed partial class DeviceProbeLoop(
    IDeviceAdapter adapter,
    DevicesInventory inventory,
    DeviceDirectory directory,
    DeviceHealth health,
    DeviceScheduler scheduler,
    IOptions<AgentOptions> options,
    TimeProvider time,
    ILogger<DeviceProbeLoop> logger) : BackgroundService
{
    private const int ProbeParallelism = 8;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.Devices.ProbeIntervalSec);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ProbeOnceAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogProbeFailed(logger, options.Value.Name, e.Message);
            }
            try
            {
                await Task.Delay(interval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    public async Task ProbeOnceAsync(CancellationToken cancellationToken)
    {
        if (!await inventory.CheckConnectionAsync(cancellationToken))
        {
            return; // A dead backend says nothing about its devices.
        }
        var idle = (await directory.RefreshAsync(cancellationToken))
            .Where(d => d.State == DeviceState.Ready && !scheduler.IsDeviceBusy(d.DeviceId))
            .ToList();
        var timeout = TimeSpan.FromMilliseconds(options.Value.Devices.PreflightTimeoutMs);
        await Parallel.ForEachAsync(idle, new ParallelOptions { MaxDegreeOfParallelism = ProbeParallelism, CancellationToken = cancellationToken }, async (device, ct) =>
        {
            using var limit = new CancellationTokenSource(timeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, limit.Token);
            try
            {
                await adapter.PingAsync(device.Handle, linked.Token);
                health.RecordSuccess(device.DeviceId);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                health.RecordFailure(device.DeviceId, limit.IsCancellationRequested ? "probe ping timed out" : e.Message);
            }
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "[node_id={NodeId}] Device probe round failed: {Error}")]
    private static partial void LogProbeFailed(ILogger logger, string nodeId, string error);
}
