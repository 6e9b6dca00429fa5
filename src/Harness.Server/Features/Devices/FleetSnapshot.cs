using Harness.Contracts;
using Harness.Contracts.Devices;
using Harness.Contracts.Nodes;
using Harness.Server.Data;
using Harness.Server.Features.Agents;
using Harness.Server.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Devices;

/// <summary>
/// The whole fleet's device list, read once and shared for a second or more by every reader of it:
/// <c>GET /api/devices</c>, <c>GET /api/nodes/status</c> and the console's pages. Twenty dashboards polling a
/// fleet of thousands of devices then cost one read and one serialization a second, not twenty.
/// </summary>
/// <remarks>
/// A device change committed by this server (a heartbeat or scan that changes the inventory or brings a
/// device back online, a device edited or forgotten, an agent deleted) drops the copy at once through
/// <see cref="Changed"/>, so a client reads its own writes. What the copy can miss for up to twice its
/// <see cref="Copy.FreshFor"/> (and the time of one read): a device turning Offline because its last_seen
/// aged out, and changes committed by another replica.
/// </remarks>
public sealed partial class FleetSnapshot(
    TimeProvider time, IOptions<HarnessServerOptions> options, IServiceScopeFactory scopes, ILogger<FleetSnapshot> logger)
{
    /// <summary>How long a copy is served as it is, at the least.</summary>
    public static readonly TimeSpan MinFresh = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A copy stays fresh for this many times as long as reading it took: a large fleet is read less often, so
    /// reading it costs a twentieth of a core at most (about 3 s for 30,000 devices on 2 cores).
    /// </summary>
    public const int FreshPerRead = 20;

    /// <summary>A paced read looks at the clock once per this many devices.</summary>
    private const int PaceEvery = 256;

    private long _changes;

    private readonly SemaphoreSlim _reading = new(1, 1);
    private Copy? _copy;

    /// <summary>Call after committing a change to a device row.</summary>
    public void Changed() => Interlocked.Increment(ref _changes);

    /// <summary>How many device changes this server committed (<see cref="Changed"/>) since it started.</summary>
    public long Changes => Interlocked.Read(ref _changes);

    /// <summary>
    /// The current copy. One younger than its <see cref="Copy.FreshFor"/> is served as it is; one up to twice that old is
    /// served too while a read in the background replaces it, so a steady fleet's listings never wait for a read.
    /// Otherwise (none yet, too old, or a device changed since) the caller waits for one new read that concurrent
    /// callers share.
    /// </summary>
    public async Task<Copy> GetAsync(HarnessDbContext db, CancellationToken cancellationToken)
    {
        var copy = Volatile.Read(ref _copy);
        switch (Freshness(copy))
        {
            case Age.Fresh:
                return copy!;
            case Age.Aging:
                if (_reading.Wait(0))
                {
                    _ = Task.Run(RereadInBackgroundAsync);
                }
                return copy!;
        }
        await _reading.WaitAsync(cancellationToken);
        try
        {
            if (Freshness(_copy) == Age.Fresh)
            {
                return _copy!;
            }
            var read = await ReadAsync(db, pacer: null, cancellationToken);
            Volatile.Write(ref _copy, read);
            return read;
        }
        finally
        {
            _reading.Release();
        }
    }

    /// <summary>Replaces an aging copy; holds <see cref="_reading"/>, taken by the caller.</summary>
    private async Task RereadInBackgroundAsync()
    {
        try
        {
            var aging = _copy!;
            await using var scope = scopes.CreateAsyncScope();
            // Paced: the aging copy is served meanwhile, so taking longer costs nothing, and the requests of a busy
            // server keep their pace instead of queueing behind a second of work.
            var pacer = new Pacer();
            var copy = await ReadAsync(scope.ServiceProvider.GetRequiredService<HarnessDbContext>(), pacer, CancellationToken.None);
            // The wire forms the old copy was asked for are made here too, not by the first request that asks for them.
            await copy.SerializeLikeAsync(aging, pacer, CancellationToken.None);
            Volatile.Write(ref _copy, copy);
        }
        catch (Exception e)
        {
            // The copy keeps aging; the first request past twice its FreshFor reads it in the foreground and sees the error.
            LogRereadFailed(logger, e);
        }
        finally
        {
            _reading.Release();
        }
    }

    /// <param name="pacer">Paces the read (a background reread); null reads at full speed (a caller is waiting).</param>
    private async Task<Copy> ReadAsync(HarnessDbContext db, Pacer? pacer, CancellationToken cancellationToken)
    {
        // The change count is taken before the read: a change committed during the read makes this copy stale at once.
        var changes = Interlocked.Read(ref _changes);
        var readAt = time.GetUtcNow();
        var started = time.GetTimestamp();
        var onlineSince = AgentsApi.OnlineSince(time, options);
        var devices = new List<DeviceView>();
        await foreach (var device in DevicesApi.ListQuery(db, onlineSince).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            devices.Add(device);
            if (pacer is not null && devices.Count % PaceEvery == 0)
            {
                await pacer.RestIfDueAsync(cancellationToken);
            }
        }
        // Paced or not, the work is what counts: the time the read took, less its rests.
        var worked = time.GetElapsedTime(started) - (pacer?.Rested ?? TimeSpan.Zero);
        var freshFor = TimeSpan.FromTicks(Math.Max(MinFresh.Ticks, FreshPerRead * worked.Ticks));
        return new Copy(changes, readAt, freshFor, devices, options.Value.OnlineWindowSec);
    }

    private enum Age { Fresh, Aging, Stale }

    private Age Freshness(Copy? copy)
    {
        if (copy is null || copy.Changes != Interlocked.Read(ref _changes))
        {
            return Age.Stale;
        }
        var age = time.GetUtcNow() - copy.ReadAt;
        return age < TimeSpan.Zero || age >= 2 * copy.FreshFor ? Age.Stale : age < copy.FreshFor ? Age.Fresh : Age.Aging;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the fleet's devices in the background failed")]
    private static partial void LogRereadFailed(ILogger logger, Exception exception);

    /// <summary>One read of the fleet, with its two wire forms serialized (and gzip-compressed) on first use.</summary>
    public sealed class Copy
    {
        private readonly int _onlineWindowSec;

        internal Copy(long changes, DateTimeOffset readAt, TimeSpan freshFor, IReadOnlyList<DeviceView> devices, int onlineWindowSec)
        {
            Changes = changes;
            ReadAt = readAt;
            FreshFor = freshFor;
            Devices = devices;
            Online = devices.Count(d => d.Status == OnlineStatus.Online);
            _onlineWindowSec = onlineWindowSec;
            DevicesBody = SharedJsonBody.Of(() => Devices, HarnessJsonContext.Default.IReadOnlyListDeviceView);
            StatusBody = SharedJsonBody.Of(() => Status(Devices), HarnessJsonContext.Default.NodeStatusResponse);
        }

        internal long Changes { get; }

        public DateTimeOffset ReadAt { get; }

        /// <summary><see cref="MinFresh"/>, or <see cref="FreshPerRead"/> times as long as the read took.</summary>
        public TimeSpan FreshFor { get; }

        /// <summary>Every device by index_no (unnumbered ones last), then device_id.</summary>
        public IReadOnlyList<DeviceView> Devices { get; }

        public int Online { get; }

        /// <summary>The body of <c>GET /api/devices</c>.</summary>
        public SharedJsonBody DevicesBody { get; }

        /// <summary>The body of <c>GET /api/nodes/status</c> for the whole fleet.</summary>
        public SharedJsonBody StatusBody { get; }

        /// <summary>Makes the wire forms <paramref name="other"/> was asked for, so its callers never wait for them.</summary>
        internal async Task SerializeLikeAsync(Copy other, Pacer pacer, CancellationToken cancellationToken)
        {
            await DevicesBody.MakeLikeAsync(other.DevicesBody, pacer, cancellationToken);
            await StatusBody.MakeLikeAsync(other.StatusBody, pacer, cancellationToken);
        }

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
