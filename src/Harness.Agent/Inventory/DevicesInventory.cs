using Harness.Agent.Execution;
using Harness.Contracts.Nodes;
using Harness.Runtimes.Devices;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Inventory;

/// <summary>
/// The <c>devices</c> runtime's inventory: what the adapter lists, with quarantine from
/// <see cref="DeviceHealth"/>, and gate 3 (the vendor connection) for <c>vendor_ws_ok</c>.
/// When the backend cannot list its devices, the last known list is reported offline with the reason.
/// </summary>
public sealed partial class DevicesInventory(
    IDeviceAdapter adapter,
    DeviceDirectory directory,
    DeviceHealth health,
    IOptions<AgentOptions> options,
    ILogger<DevicesInventory> logger) : IDeviceInventory
{
    private volatile StrongBox? _vendorOk;

    public bool? VendorConnectionOk => _vendorOk?.Value;

    /// <summary>Gate 3: asks the backend whether it answers; logs when that changes.</summary>
    public async Task<bool> CheckConnectionAsync(CancellationToken cancellationToken)
    {
        bool ok;
        string? error = null;
        try
        {
            ok = await adapter.CheckConnectionAsync(cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            ok = false;
            error = e.Message;
        }
        var previous = _vendorOk?.Value;
        _vendorOk = new StrongBox(ok);
        if (previous != ok)
        {
            if (ok)
            {
                LogBackendUp(logger, options.Value.Name, adapter.Name);
            }
            else
            {
                LogBackendDown(logger, options.Value.Name, adapter.Name, error ?? "it says it is not connected");
            }
        }
        return ok;
    }

    public async ValueTask<IReadOnlyList<DeviceReport>?> SnapshotAsync(CancellationToken cancellationToken)
    {
        await CheckConnectionAsync(cancellationToken);
        try
        {
            var devices = await directory.RefreshAsync(cancellationToken);
            return [.. devices.Select(d => new DeviceReport(d.DeviceId, d.Handle, d.Model, d.State, Error: d.Error, Quarantined: health.IsQuarantined(d.DeviceId)))];
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return [.. directory.Devices.Select(d => new DeviceReport(d.DeviceId, d.Handle, d.Model, DeviceState.Offline,
                Error: $"{adapter.Name} cannot list devices: {e.Message}", Quarantined: health.IsQuarantined(d.DeviceId)))];
        }
    }

    private sealed record StrongBox(bool Value);

    [LoggerMessage(Level = LogLevel.Information, Message = "[node_id={NodeId}] Device backend {Adapter} answers (vendor_ws_ok)")]
    private static partial void LogBackendUp(ILogger logger, string nodeId, string adapter);

    [LoggerMessage(Level = LogLevel.Error, Message = "[node_id={NodeId}] Device backend {Adapter} does not answer: {Error}")]
    private static partial void LogBackendDown(ILogger logger, string nodeId, string adapter, string error);
}
