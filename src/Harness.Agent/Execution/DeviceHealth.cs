using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Execution;

/// <summary>
/// Heartbeats are not health (DESIGN.md §11): a device that is listed ready but fails
/// <see cref="DevicesOptions.QuarantineAfterFailures"/> functional probes in a row (idle pings,
/// task preflights) is quarantined: heartbeats report it, the scheduler refuses its tasks.
/// One successful probe clears it.
/// </summary>
public sealed partial class DeviceHealth(IOptions<AgentOptions> options, ILogger<DeviceHealth> logger)
{
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);

    private int Threshold => options.Value.Devices.QuarantineAfterFailures;

    public bool IsQuarantined(string deviceId) => _failures.TryGetValue(deviceId, out var n) && n >= Threshold;

    public int FailuresInARow(string deviceId) => _failures.GetValueOrDefault(deviceId);

    public void RecordSuccess(string deviceId)
    {
        if (_failures.TryRemove(deviceId, out var n) && n >= Threshold)
        {
            LogCleared(logger, options.Value.Name, deviceId);
        }
    }

    public void RecordFailure(string deviceId, string reason)
    {
        var n = _failures.AddOrUpdate(deviceId, 1, (_, c) => c + 1);
        if (n == Threshold)
        {
            LogQuarantined(logger, options.Value.Name, deviceId, n, reason);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "[node_id={NodeId} device_id={DeviceId}] Quarantined after {Failures} failed probes in a row: {Reason}")]
    private static partial void LogQuarantined(ILogger logger, string nodeId, string deviceId, int failures, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "[node_id={NodeId} device_id={DeviceId}] Probe succeeded; out of quarantine")]
    private static partial void LogCleared(ILogger logger, string nodeId, string deviceId);
}
