using Harness.Contracts.Nodes;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Agents;
using Harness.Server.Features.Devices;
using Harness.Server.Features.Workspaces;
using Harness.Server.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Nodes;

/// <summary>
/// Applies one heartbeat: the agent's liveness and state, its <c>worker_heartbeats</c> row, and
/// its device inventory, saved in one transaction (devices that only stay alive are refreshed by one
/// <c>UPDATE</c> of their own). A device another agent holds refuses the whole heartbeat (403) and
/// changes nothing.
/// </summary>
public sealed partial class HeartbeatHandler(
    HarnessDbContext db, TimeProvider time, IOptions<HarnessServerOptions> options, RuntimeKeys runtimeKeys, FleetSnapshot fleet, InventoryMemo memo,
    ILogger<HeartbeatHandler> logger)
{
    public async Task<IResult> HandleAsync(Guid agentId, HeartbeatRequest request, CancellationToken cancellationToken)
    {
        return await ConflictRetry.RunAsync(db, () => ApplyAsync(agentId, request, cancellationToken),
            (attempt, e) => LogRetry(logger, agentId, attempt, e), (attempt, e) => LogGaveUp(logger, agentId, attempt, e),
            "devices", "the inventory kept conflicting with concurrent writes; send the heartbeat again");
    }

    private async Task<IResult> ApplyAsync(Guid agentId, HeartbeatRequest request, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var agent = await db.Agents.SingleOrDefaultAsync(a => a.Id == agentId, cancellationToken);
        if (agent is null)
        {
            return Problems.NotFound("agent: this agent was deleted; register it again");
        }
        // Like a device's, the agent's last_seen (and its worker_heartbeats row) is rewritten once it is older than a
        // third of the online window: a steady agent that changes nothing writes nothing on most heartbeats.
        var refresh = Due(agent.LastSeen, now);
        if (refresh)
        {
            agent.LastSeen = now;
        }
        agent.Version = request.Version ?? agent.Version;
        agent.VendorWsOk = request.VendorWsOk ?? agent.VendorWsOk;
        agent.CurrentLoad = request.CurrentLoad ?? agent.CurrentLoad;
        agent.Capacity = request.Capacity ?? agent.Capacity;
        agent.Endpoint = request.Endpoint ?? agent.Endpoint;
        agent.Region = request.Region ?? agent.Region;
        if (request.Labels is not null)
        {
            agent.Labels = AgentFields.SerializeLabels(request.Labels);
        }
        if (request.Runtimes is not null)
        {
            agent.Runtimes = AgentFields.JoinRuntimes(request.Runtimes);
        }

        var accepted = 0;
        (UInt128 Fingerprint, long FleetChanges, DateTimeOffset? SteadyUntil)? applied = null;
        if (request.Devices is { } reported)
        {
            // An inventory that repeats the last steady one, none of whose devices is due for a last_seen rewrite: nothing to read or write.
            var fingerprint = InventoryMemo.Fingerprint(reported);
            if (!memo.Repeats(agent.Id, fingerprint, now))
            {
                var fleetChanges = fleet.Changes;
                var refusal = await ApplyInventoryAsync(agent, reported, now, cancellationToken);
                if (refusal is not null)
                {
                    memo.Forget(agent.Id);
                    return refusal;
                }
                applied = (fingerprint, fleetChanges, SteadyUntil);
            }
            accepted = reported.Count;
        }

        if (refresh)
        {
            var workerId = agent.Id.ToString();
            var heartbeat = await db.WorkerHeartbeats.SingleOrDefaultAsync(h => h.WorkerId == workerId, cancellationToken);
            if (heartbeat is null)
            {
                db.WorkerHeartbeats.Add(new WorkerHeartbeatEntity { WorkerId = workerId, UpdatedAt = now });
            }
            else
            {
                heartbeat.UpdatedAt = now;
            }
        }
        if (db.ChangeTracker.HasChanges())
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        if (db.Database.CurrentTransaction is { } indexTransaction)
        {
            await indexTransaction.CommitAsync(cancellationToken);
        }
        Committed();
        if (applied is { } inventory)
        {
            memo.Remember(agent.Id, inventory.Fingerprint, inventory.FleetChanges, inventory.SteadyUntil);
        }
        var runtimeKey = await runtimeKeys.ForAgentAsync(db, agent.Id, cancellationToken);
        return TypedResults.Ok(new HeartbeatResponse(agent.Id, agent.Name, now, options.Value.OnlineWindowSec, accepted, runtimeKey));
    }

    /// <summary>
    /// Whether <see cref="ApplyInventoryAsync"/> changed what a device listing shows; the caller calls
    /// <see cref="Committed"/> once that is committed.
    /// </summary>
    public bool DevicesChanged { get; private set; }

    /// <summary>
    /// After <see cref="ApplyInventoryAsync"/>: when it changed no device but last_seen, the moment the first of them
    /// is due for a last_seen rewrite; otherwise null.
    /// </summary>
    public DateTimeOffset? SteadyUntil { get; private set; }

    /// <summary>Drops the fleet's shared copy when the committed work changed a device.</summary>
    public void Committed()
    {
        if (DevicesChanged)
        {
            fleet.Changed();
        }
    }

    /// <summary>
    /// Upserts the agent's devices (numbering new ones) and marks the ones it no longer reports missing.
    /// Returns a 403 problem when a device belongs to another agent; <paramref name="added"/> and
    /// <paramref name="missingIds"/> receive what changed.
    /// </summary>
    internal async Task<IResult?> ApplyInventoryAsync(AgentEntity agent, IReadOnlyList<DeviceReport> reported, DateTimeOffset now, CancellationToken cancellationToken,
        List<string>? added = null, List<string>? missingIds = null)
    {
        var ids = reported.Select(d => d.DeviceId!).ToList();
        // Read untracked: in a steady fleet no row changes but last_seen, refreshed by one UPDATE below. A row that
        // does change is attached first (Track). Rows this context already tracks (an earlier scan of the same
        // callback batch) stand in for what the read returns.
        var tracked = db.ChangeTracker.Entries<DeviceEntity>().ToDictionary(e => e.Entity.DeviceId, e => e.Entity, StringComparer.Ordinal);
        var known = await db.Devices.AsNoTracking()
            .Where(d => d.AgentId == agent.Id || ids.Contains(d.DeviceId))
            .ToDictionaryAsync(d => d.DeviceId, StringComparer.Ordinal, cancellationToken);
        foreach (var (id, entity) in tracked)
        {
            if (known.ContainsKey(id) || db.Entry(entity).State == EntityState.Added)
            {
                known[id] = entity;
            }
        }

        for (var i = 0; i < reported.Count; i++)
        {
            if (known.TryGetValue(reported[i].DeviceId!, out var existing) && existing.AgentId != agent.Id)
            {
                return Problems.Forbidden(
                    $"devices[{i}].device_id",
                    $"device '{existing.DeviceId}' belongs to node '{existing.NodeId}'; an agent may report only its own devices (release it with DELETE /api/devices/{existing.DeviceId})");
            }
        }

        int? nextIndex = null;
        var refreshEvery = RefreshEvery;
        DateTimeOffset? steadyUntil = DateTimeOffset.MaxValue;
        // Devices the heartbeat only confirms alive: refreshed by one UPDATE below, not a row each through the change tracker.
        var alive = new List<string>();
        var onlineSince = now - TimeSpan.FromSeconds(options.Value.OnlineWindowSec);
        // New devices get index numbers in device_id order, so one heartbeat always numbers the same way.
        foreach (var report in reported.OrderBy(d => d.DeviceId, StringComparer.Ordinal))
        {
            if (known.TryGetValue(report.DeviceId!, out var existing) && Unchanged(existing, report, agent.Name))
            {
                // Online means "seen within the online window": a last_seen younger than a third of it
                // is left as it is, so a steady fleet writes each device row every few heartbeats, not every one.
                var lastSeen = existing.LastSeen;
                if (Due(lastSeen, now))
                {
                    alive.Add(existing.DeviceId);
                    // Offline until now: listings show it Online again.
                    DevicesChanged |= lastSeen is not { } last || last < onlineSince;
                    lastSeen = now;
                }
                if (steadyUntil is { } earliest && lastSeen!.Value + refreshEvery < earliest)
                {
                    steadyUntil = lastSeen.Value + refreshEvery;
                }
                continue;
            }
            steadyUntil = null;
            if (!known.TryGetValue(report.DeviceId!, out var device))
            {
                if (nextIndex is null)
                {
                    // Numbering reads the highest index_no and writes above it: one heartbeat at a time, across replicas.
                    await db.LockAsync(HarnessLock.DeviceIndex, cancellationToken);
                    nextIndex = (await db.Devices.MaxAsync(d => d.IndexNo, cancellationToken) ?? 0) + 1;
                }
                device = new DeviceEntity
                {
                    DeviceId = report.DeviceId!,
                    AgentId = agent.Id,
                    NodeId = agent.Name,
                    IndexNo = nextIndex++,
                    Label = report.Label,
                    CreatedAt = now,
                };
                db.Devices.Add(device);
                known[device.DeviceId] = device;
                added?.Add(device.DeviceId);
            }
            Apply(Track(device), report, agent.Name, now);
            DevicesChanged = true;
        }

        if (alive.Count > 0)
        {
            await db.Devices.Where(d => d.AgentId == agent.Id && alive.Contains(d.DeviceId))
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.LastSeen, now).SetProperty(d => d.UpdatedAt, now), cancellationToken);
        }

        var reportedIds = ids.ToHashSet(StringComparer.Ordinal);
        foreach (var missing in known.Values.Where(d => d.AgentId == agent.Id && !reportedIds.Contains(d.DeviceId) && d.State != MissingState).Select(Track))
        {
            missing.State = MissingState;
            missingIds?.Add(missing.DeviceId);
            missing.LastErrorMessage = $"not in {agent.Name}'s inventory since {now:yyyy-MM-ddTHH:mm:ssZ}";
            missing.UpdatedAt = now;
            DevicesChanged = true;
            steadyUntil = null;
        }
        SteadyUntil = reported.Count == 0 ? null : steadyUntil;
        return null;
    }

    /// <summary>
    /// Whether a <c>last_seen</c> (an agent's or a device's) is due to be rewritten: never set, or older than a
    /// third of the online window, so it stays well inside the window without a write on every heartbeat.
    /// </summary>
    private bool Due(DateTimeOffset? lastSeen, DateTimeOffset now) =>
        lastSeen is not { } seen || seen < now - RefreshEvery;

    /// <summary>A third of the online window: how old a <c>last_seen</c> may grow before a heartbeat rewrites it.</summary>
    private TimeSpan RefreshEvery => TimeSpan.FromSeconds(options.Value.OnlineWindowSec) / 3;

    /// <summary>Starts tracking a device read untracked, before it changes, so that the save writes what changed.</summary>
    private DeviceEntity Track(DeviceEntity device)
    {
        if (db.Entry(device).State == EntityState.Detached)
        {
            db.Devices.Attach(device);
        }
        return device;
    }

    /// <summary>A device the agent used to report and no longer does.</summary>
    public const string MissingState = "missing";

    private static void Apply(DeviceEntity device, DeviceReport report, string nodeId, DateTimeOffset now)
    {
        var state = report.State ?? DeviceState.Ready;
        device.RuntimeHandle = report.RuntimeHandle ?? device.RuntimeHandle ?? report.DeviceId;
        device.Model = report.Model ?? device.Model;
        device.NodeId = nodeId;
        device.State = StateName(state);
        device.UpdatedAt = now;
        // Online means "answered recently": a device the agent reports as offline keeps its old last_seen
        // and turns Offline when that ages out. The cause goes to last_error_message.
        if (state != DeviceState.Offline)
        {
            device.LastSeen = now;
        }
        if (report.Quarantined is { } quarantined)
        {
            device.QuarantinedAt = quarantined ? device.QuarantinedAt ?? now : null;
        }
        if (report.Error is not null)
        {
            device.LastErrorMessage = report.Error;
        }
        else if (state is DeviceState.Offline or DeviceState.Unauthorized or DeviceState.Error)
        {
            device.LastErrorMessage = $"{nodeId} reports the device {StateName(state)}";
        }
    }

    /// <summary>
    /// Whether applying <paramref name="report"/> would change nothing but last_seen and updated_at:
    /// the steady state of a healthy fleet, where every heartbeat repeats the last one.
    /// </summary>
    private static bool Unchanged(DeviceEntity device, DeviceReport report, string nodeId)
    {
        var state = report.State ?? DeviceState.Ready;
        return state is DeviceState.Ready or DeviceState.Busy or DeviceState.Booting
            && device.State == StateName(state)
            && device.NodeId == nodeId
            && device.RuntimeHandle == (report.RuntimeHandle ?? device.RuntimeHandle ?? report.DeviceId)
            && device.Model == (report.Model ?? device.Model)
            && (report.Quarantined is not { } quarantined || quarantined == (device.QuarantinedAt is not null))
            && (report.Error is null || report.Error == device.LastErrorMessage);
    }

    public static string StateName(DeviceState state) => state switch
    {
        DeviceState.Ready => "ready",
        DeviceState.Busy => "busy",
        DeviceState.Booting => "booting",
        DeviceState.Unauthorized => "unauthorized",
        DeviceState.Offline => "offline",
        _ => "error",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat of agent {AgentId} still conflicted after {Attempts} attempts; answered 503")]
    private static partial void LogGaveUp(ILogger logger, Guid agentId, int attempts, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Heartbeat of agent {AgentId} conflicted with another write (attempt {Attempt}); retrying")]
    private static partial void LogRetry(ILogger logger, Guid agentId, int attempt, Exception exception);
}
