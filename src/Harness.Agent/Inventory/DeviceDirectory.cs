using Harness.Runtimes.Devices;

namespace Harness.Agent.Inventory;

/// <summary>
/// The adapter's latest device list, shared by heartbeats, probes and the emulator gate so the
/// backend is asked once per refresh rather than once per task.
/// </summary>
public sealed class DeviceDirectory(IDeviceAdapter adapter, TimeProvider time)
{
    private volatile Snapshot _snapshot = new([], DateTimeOffset.MinValue);

    public IReadOnlyList<DeviceInfo> Devices => _snapshot.Devices;

    public async Task<IReadOnlyList<DeviceInfo>> RefreshAsync(CancellationToken cancellationToken)
    {
        var devices = await adapter.ListAsync(cancellationToken);
        _snapshot = new(devices, time.GetUtcNow());
        return devices;
    }

    /// <summary>The device as listed at most <paramref name="maxAge"/> ago (refreshing when older or unknown); null when the backend does not list it.</summary>
    public async Task<DeviceInfo?> FindAsync(string deviceId, TimeSpan maxAge, CancellationToken cancellationToken)
    {
        var snapshot = _snapshot;
        if (time.GetUtcNow() - snapshot.At <= maxAge && Find(snapshot.Devices, deviceId) is { } fresh)
        {
            return fresh;
        }
        return Find(await RefreshAsync(cancellationToken), deviceId);
    }

    private static DeviceInfo? Find(IReadOnlyList<DeviceInfo> devices, string deviceId) =>
        devices.FirstOrDefault(d => string.Equals(d.DeviceId, deviceId, StringComparison.Ordinal));

    private sealed record Snapshot(IReadOnlyList<DeviceInfo> Devices, DateTimeOffset At);
}
