using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Devices;
using Harness.Contracts.Nodes;
using Harness.Server.Data;
using Harness.Server.Features.Agents;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Devices;

/// <summary>
/// The whole fleet's device list, read once and shared for up to <see cref="MaxAge"/> by every reader of it:
/// <c>GET /api/devices</c>, <c>GET /api/nodes/status</c> and the console's pages. Twenty dashboards polling a
/// fleet of thousands of devices then cost one read and one serialization a second, not twenty.
/// </summary>
/// <remarks>
/// A device change committed by this server (a heartbeat or scan that changes the inventory or brings a
/// device back online, a device edited or forgotten, an agent deleted) drops the copy at once through
/// <see cref="Changed"/>, so a client reads its own writes. What the copy can miss for up to
/// <see cref="MaxAge"/>: a device turning Offline because its last_seen aged out, and changes committed by
/// another replica.
/// </remarks>
public sealed class FleetSnapshot(TimeProvider time, IOptions<HarnessServerOptions> options)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private long _changes;

    private readonly SemaphoreSlim _reading = new(1, 1);
    private Copy? _copy;

    /// <summary>Call after committing a change to a device row.</summary>
    public void Changed() => Interlocked.Increment(ref _changes);

    /// <summary>The current copy: the one in hand while it is fresh, else one new read that concurrent callers share.</summary>
    public async Task<Copy> GetAsync(HarnessDbContext db, CancellationToken cancellationToken)
    {
        if (Fresh(Volatile.Read(ref _copy)) is { } fresh)
        {
            return fresh;
        }
        await _reading.WaitAsync(cancellationToken);
        try
        {
            if (Fresh(_copy) is { } read)
            {
                return read;
            }
            // The change count is taken before the read: a change committed during the read makes this copy stale at once.
            var changes = Interlocked.Read(ref _changes);
            var readAt = time.GetUtcNow();
            var devices = await DevicesApi.ReadAsync(db, AgentsApi.OnlineSince(time, options), cancellationToken);
            var copy = new Copy(changes, readAt, devices, options.Value.OnlineWindowSec);
            Volatile.Write(ref _copy, copy);
            return copy;
        }
        finally
        {
            _reading.Release();
        }
    }

    private Copy? Fresh(Copy? copy)
    {
        if (copy is null || copy.Changes != Interlocked.Read(ref _changes))
        {
            return null;
        }
        var age = time.GetUtcNow() - copy.ReadAt;
        return age >= TimeSpan.Zero && age < MaxAge ? copy : null;
    }

    /// <summary>One read of the fleet, with its two wire forms serialized on first use.</summary>
    public sealed class Copy
    {
        private readonly int _onlineWindowSec;
        private byte[]? _devicesJson;
        private byte[]? _statusJson;

        internal Copy(long changes, DateTimeOffset readAt, IReadOnlyList<DeviceView> devices, int onlineWindowSec)
        {
            Changes = changes;
            ReadAt = readAt;
            Devices = devices;
            Online = devices.Count(d => d.Status == OnlineStatus.Online);
            _onlineWindowSec = onlineWindowSec;
        }

        internal long Changes { get; }

        public DateTimeOffset ReadAt { get; }

        /// <summary>Every device by index_no (unnumbered ones last), then device_id.</summary>
        public IReadOnlyList<DeviceView> Devices { get; }

        public int Online { get; }

        /// <summary>The body of <c>GET /api/devices</c>.</summary>
        public byte[] DevicesJson => _devicesJson ??= JsonSerializer.SerializeToUtf8Bytes(Devices, HarnessJsonContext.Default.IReadOnlyListDeviceView);

        /// <summary>The body of <c>GET /api/nodes/status</c> for the whole fleet.</summary>
        public byte[] StatusJson => _statusJson ??= JsonSerializer.SerializeToUtf8Bytes(Status(Devices), HarnessJsonContext.Default.NodeStatusResponse);

        /// <summary><c>GET /api/nodes/status</c> over <paramref name="devices"/>, a part of this copy.</summary>
        public NodeStatusResponse Status(IReadOnlyList<DeviceView> devices)
        {
            var views = devices.Select(d => new DeviceStatusView(
                d.IndexNo, d.DeviceId, d.NodeId, d.RuntimeHandle, d.Model, d.Label, d.Status, d.State, d.LastSeen, d.LastErrorMessage, d.QuarantinedAt)).ToList();
            var online = ReferenceEquals(devices, Devices) ? Online : views.Count(v => v.Status == OnlineStatus.Online);
            return new NodeStatusResponse(views.Count, online, views.Count - online, _onlineWindowSec, views);
        }
    }
}
