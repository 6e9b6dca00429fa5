using Harness.Contracts.Runs;
using Harness.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Harness.Server.Data;

/// <summary>
/// The Harness schema (DESIGN.md §3). Each provider has its own subclass so that each keeps its
/// own migrations; the model itself is defined once, here.
/// </summary>
public abstract class HarnessDbContext : DbContext
{
    protected HarnessDbContext(DbContextOptions options)
        : base(options)
    {
    }

    /// <summary>
    /// Readies a context for a unit of work. Contexts are pooled, and EF resets a pooled context to its
    /// defaults when it goes back, so this runs each time one is handed out, not once in the constructor.
    /// </summary>
    internal virtual HarnessDbContext Rented()
    {
        // A failed save inside a transaction of ours ends the whole unit of work (ConflictRetry rolls it
        // back and starts again), so EF's savepoint around each save bought nothing, and cost two round
        // trips while the transaction held its row locks.
        Database.AutoSavepointsEnabled = false;
        return this;
    }

    public DbSet<AgentEntity> Agents => Set<AgentEntity>();
    public DbSet<WorkerHeartbeatEntity> WorkerHeartbeats => Set<WorkerHeartbeatEntity>();
    public DbSet<DeviceEntity> Devices => Set<DeviceEntity>();
    public DbSet<WorkflowEntity> Workflows => Set<WorkflowEntity>();
    public DbSet<CommandAssetEntity> CommandAssets => Set<CommandAssetEntity>();
    public DbSet<PlaybookEntity> Playbooks => Set<PlaybookEntity>();
    public DbSet<RunEntity> Runs => Set<RunEntity>();
    public DbSet<RunDeviceStateEntity> RunDeviceStates => Set<RunDeviceStateEntity>();
    public DbSet<RunStepEntity> RunSteps => Set<RunStepEntity>();
    public DbSet<RunCounterMoveEntity> RunCounterMoves => Set<RunCounterMoveEntity>();
    public DbSet<ArtifactEntity> Artifacts => Set<ArtifactEntity>();
    public DbSet<CallbackEventEntity> CallbackEvents => Set<CallbackEventEntity>();
    public DbSet<ScanJobEntity> ScanJobs => Set<ScanJobEntity>();
    public DbSet<JobEntity> Jobs => Set<JobEntity>();
    public DbSet<JobLogEntity> JobLogs => Set<JobLogEntity>();
    public DbSet<WorkspaceEntity> Workspaces => Set<WorkspaceEntity>();
    public DbSet<WorkspaceArchiveEntity> WorkspaceArchives => Set<WorkspaceArchiveEntity>();
    public DbSet<ServerSettingEntity> ServerSettings => Set<ServerSettingEntity>();
    public DbSet<AuditLogEntity> AuditLog => Set<AuditLogEntity>();
    public DbSet<UserEntity> Users => Set<UserEntity>();
    public DbSet<OperatorTokenEntity> OperatorTokens => Set<OperatorTokenEntity>();

    /// <summary>
    /// Starts a transaction that holds <paramref name="key"/> until it ends, across every server replica:
    /// a PostgreSQL advisory lock, or SQLite's database write lock.
    /// </summary>
    public abstract Task<IDbContextTransaction> BeginLockedTransactionAsync(HarnessLock key, CancellationToken cancellationToken);

    /// <summary>
    /// Starts a transaction that holds <paramref name="key"/> shared until it ends: any number of such
    /// transactions run at once, none alongside one that holds it exclusively
    /// (<see cref="BeginLockedTransactionAsync"/>). Writers under a shared hold lock the rows they change
    /// (<see cref="LockDeviceStatesAsync"/>, <see cref="MoveRunCountersAsync"/>). SQLite has one writer at a time,
    /// so there it is the exclusive lock.
    /// </summary>
    public abstract Task<IDbContextTransaction> BeginSharedLockedTransactionAsync(HarnessLock key, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="BeginSharedLockedTransactionAsync(HarnessLock, CancellationToken)"/>, then
    /// <see cref="LockKeysAsync"/> on one key, in that order; PostgreSQL takes both in one round trip.
    /// </summary>
    public virtual async Task<IDbContextTransaction> BeginSharedLockedTransactionAsync(HarnessLock key, KeyedLock space, Guid keyed, CancellationToken cancellationToken)
    {
        var transaction = await BeginSharedLockedTransactionAsync(key, cancellationToken);
        await LockKeysAsync(space, [keyed], cancellationToken);
        return transaction;
    }

    /// <summary>
    /// <see cref="BeginSharedLockedTransactionAsync(HarnessLock, CancellationToken)"/>, then
    /// <see cref="LockDeviceStatesAsync"/>, in that order; PostgreSQL does both in one round trip.
    /// </summary>
    public virtual async Task<(IDbContextTransaction Transaction, List<RunDeviceStateEntity> States)> BeginSharedLockedTransactionAsync(
        HarnessLock key, IReadOnlyCollection<(Guid RunId, string DeviceId)> states, CancellationToken cancellationToken)
    {
        var transaction = await BeginSharedLockedTransactionAsync(key, cancellationToken);
        return (transaction, states.Count == 0 ? [] : await LockDeviceStatesAsync(states, cancellationToken));
    }

    /// <summary>
    /// Reads, tracked, the device states with these keys, locking each row until the transaction ends
    /// (PostgreSQL <c>FOR UPDATE</c>, in key order so concurrent lockers cannot deadlock). Keys with no
    /// row are left out.
    /// </summary>
    public abstract Task<List<RunDeviceStateEntity>> LockDeviceStatesAsync(IReadOnlyCollection<(Guid RunId, string DeviceId)> keys, CancellationToken cancellationToken);

    /// <summary>
    /// Holds, until the current transaction ends, one lock per key in <paramref name="space"/>: across every
    /// server replica, taken in one order so concurrent holders cannot deadlock (PostgreSQL advisory locks on
    /// a 32-bit fold of each key: two keys that share a fold only wait for each other). SQLite's transaction
    /// already holds its one write lock.
    /// </summary>
    public abstract Task LockKeysAsync(KeyedLock space, IEnumerable<Guid> keys, CancellationToken cancellationToken);

    /// <summary>
    /// Adds each delta to its run's counters in the database, with any moves other transactions left for
    /// the run, and returns the runs moved, as they are now, tracked; their rows stay locked until the
    /// transaction ends, so call it last, just before the commit. A run whose row another transaction is
    /// moving is not waited for: its delta is left in <c>run_counter_moves</c> for the next mover
    /// (PostgreSQL; <c>Deferred</c> says so). On SQLite, the one writer reads, adds and saves.
    /// </summary>
    public abstract Task<(List<RunEntity> Moved, bool Deferred)> MoveRunCountersAsync(IReadOnlyList<(Guid RunId, RunCounterDelta Delta)> moves, CancellationToken cancellationToken);

    /// <summary>
    /// Saves the tracked changes of a dispatch unit of work (a callback's or a claim's) inside its open
    /// transaction, as <c>SaveChangesAsync</c> would. PostgreSQL writes the shapes those units make (device
    /// states and steps changed, steps added) with one statement per table and kind, in one round trip,
    /// instead of a statement per row; any other change goes through EF Core's save.
    /// </summary>
    public virtual Task<int> SaveDispatchChangesAsync(CancellationToken cancellationToken) => SaveChangesAsync(cancellationToken);

    /// <summary>
    /// The status of every device of these runs, for a recount; in the same snapshot the moves left for
    /// these runs are dropped, since the recount includes them. Call it holding the runs' rows (moved by
    /// <see cref="MoveRunCountersAsync"/>) or the dispatch lock exclusively.
    /// </summary>
    public abstract Task<List<DeviceStatusRow>> RecountDeviceStatusesAsync(IReadOnlyCollection<Guid> runIds, CancellationToken cancellationToken);

    /// <summary>
    /// The queued tasks of these agents' open runs a claim chooses from, with what choosing and leasing them
    /// needs of their run and their device. PostgreSQL leaves out the tasks no claim could choose now (see
    /// its override); this reads them all.
    /// </summary>
    public virtual Task<List<QueuedTask>> QueuedTasksAsync(IReadOnlyCollection<Guid> agentIds, CancellationToken cancellationToken) =>
        QueuedTasksAsync(agentIds.Select(a => (Guid?)a).ToList(), cancellationToken);

    private Task<List<QueuedTask>> QueuedTasksAsync(List<Guid?> agentIds, CancellationToken cancellationToken) => (
            from s in RunDeviceStates
            join r in Runs on s.RunId equals r.Id
            join d in Devices on s.DeviceId equals d.DeviceId into found
            from d in found.DefaultIfEmpty()
            where agentIds.Contains(s.AgentId) && s.Status == DeviceRunStatus.Queued && (r.Status == RunStatus.Queued || r.Status == RunStatus.Running)
            select new QueuedTask(
                s.AgentId!.Value, s.RunId, s.DeviceId, r.CreatedAt, r.Concurrency, r.Concurrency < r.TotalDevices, r.Subject, r.StepTimeoutMs, r.UploadTimeoutMs,
                d != null, d != null ? d.IndexNo : null, d != null ? d.RuntimeHandle : null, d != null && d.QuarantinedAt != null,
                RunDeviceStates.Any(o => o.DeviceId == s.DeviceId
                    && (o.Status == DeviceRunStatus.Dispatched || o.Status == DeviceRunStatus.Preflight || o.Status == DeviceRunStatus.Running || o.Status == DeviceRunStatus.Waiting))))
        .AsNoTracking()
        .ToListAsync(cancellationToken);

    /// <summary>
    /// Begins a callback's unit of work: holds <see cref="HarnessLock.Dispatch"/> shared, locks and tracks the
    /// device states of <paramref name="keys"/>, records the events (<see cref="RecordCallbackEventsAsync"/>,
    /// which returns the ids that were new), and, <paramref name="withSteps"/>, tracks the steps of those
    /// devices, in that order. PostgreSQL sends the three in one round trip.
    /// </summary>
    public virtual async Task<(List<RunDeviceStateEntity> States, HashSet<string> Fresh)> BeginCallbackAsync(
        IReadOnlyCollection<(Guid RunId, string DeviceId)> keys, IReadOnlyList<CallbackEventEntity> events, bool withSteps, CancellationToken cancellationToken)
    {
        var (_, states) = await BeginSharedLockedTransactionAsync(HarnessLock.Dispatch, keys, cancellationToken);
        var fresh = await RecordCallbackEventsAsync(events, cancellationToken);
        if (withSteps && keys.Count > 0)
        {
            var runIds = keys.Select(k => k.RunId).Distinct().ToList();
            var deviceIds = keys.Select(k => k.DeviceId).Distinct().ToList();
            await RunSteps.Where(st => runIds.Contains(st.RunId) && deviceIds.Contains(st.DeviceId)).LoadAsync(cancellationToken);
        }
        return (states, fresh);
    }

    /// <summary>
    /// Stores each of these callback events once, by event_id, in the current transaction, and returns the ids
    /// that were new: not stored before, and the first of their id in <paramref name="events"/>. Call it
    /// holding the rows the events change, so that a concurrent delivery of the same events has committed.
    /// On SQLite, the one writer reads what is stored and adds the rest, saved with the unit of work.
    /// </summary>
    public virtual async Task<HashSet<string>> RecordCallbackEventsAsync(IReadOnlyList<CallbackEventEntity> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return new HashSet<string>(StringComparer.Ordinal);
        }
        var ids = events.Select(e => e.EventId).Distinct().ToList();
        var stored = (await CallbackEvents.AsNoTracking().Where(c => ids.Contains(c.EventId)).Select(c => c.EventId).ToListAsync(cancellationToken))
            .ToHashSet(StringComparer.Ordinal);
        var fresh = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in events.Where(e => !stored.Contains(e.EventId) && fresh.Add(e.EventId)))
        {
            CallbackEvents.Add(e);
        }
        return fresh;
    }

    /// <summary>The runs that have moves left for them (<see cref="MoveRunCountersAsync"/>), at most <paramref name="limit"/>.</summary>
    public Task<List<Guid>> RunsWithDeferredMovesAsync(int limit, CancellationToken cancellationToken) =>
        RunCounterMoves.AsNoTracking().Select(m => m.RunId).Distinct().OrderBy(id => id).Take(limit).ToListAsync(cancellationToken);

    /// <summary>
    /// Sends <paramref name="payload"/> to the other server replicas listening on <paramref name="channel"/>,
    /// at the commit of the current transaction (PostgreSQL <c>NOTIFY</c>); SQLite serves one process, so
    /// there is nobody to tell.
    /// </summary>
    public abstract Task NotifyAsync(string channel, string payload, CancellationToken cancellationToken);

    /// <summary>Takes <paramref name="key"/> as well inside the current transaction (always after the locks it already holds).</summary>
    public abstract Task AcquireLockAsync(HarnessLock key, CancellationToken cancellationToken);

    /// <summary>Holds <paramref name="key"/> until the current transaction ends, starting one when there is none.</summary>
    public async Task LockAsync(HarnessLock key, CancellationToken cancellationToken)
    {
        if (Database.CurrentTransaction is null)
        {
            await BeginLockedTransactionAsync(key, cancellationToken);
        }
        else
        {
            await AcquireLockAsync(key, cancellationToken);
        }
    }

    /// <summary>The column type JSON documents are stored in (<c>jsonb</c> on PostgreSQL, text on SQLite).</summary>
    protected abstract string JsonColumnType { get; }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(HarnessDbContext).Assembly);
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties())
            {
                if (property.FindAnnotation(HarnessModel.JsonAnnotation) is not null)
                {
                    property.SetColumnType(JsonColumnType);
                }
            }
        }
        HarnessModel.UseSnakeCaseNames(modelBuilder);
    }
}

/// <summary>The named locks that serialise writes which read-then-write shared state.</summary>
public enum HarnessLock : long
{
    /// <summary>index_no allocation.</summary>
    DeviceIndex = 0x4841_524E_4958, // "HARNIX"
    /// <summary>Run device states: dispatch, callbacks, cancel and the lease sweeper.</summary>
    Dispatch = 0x4841_524E_4450, // "HARNDP"
    /// <summary>Workspace placement and state transitions: capacity is read then taken under it.</summary>
    Workspaces = 0x4841_524E_5753, // "HARNWS"
}

/// <summary>
/// Locks held per key, inside a shared hold of <see cref="HarnessLock.Dispatch"/>
/// (<see cref="HarnessDbContext.LockKeysAsync"/>). The values are PostgreSQL's first advisory key.
/// </summary>
public enum KeyedLock
{
    /// <summary>An agent's claims: one at a time, so two pulls of one agent never lease one device twice.</summary>
    AgentClaims = 0x4844_4143, // "HDAC"
    /// <summary>A run's claims, when its concurrency is below its devices: its slots are counted then taken under it.</summary>
    RunSlots = 0x4844_5253, // "HDRS"
}

/// <summary>
/// A queued task of a pulling agent, with what choosing and leasing it needs of its run and its device
/// (<see cref="HarnessDbContext.QueuedTasksAsync"/>). <c>Bounded</c>: the run's concurrency is below its devices.
/// </summary>
public sealed record QueuedTask(
    Guid AgentId, Guid RunId, string DeviceId, DateTimeOffset RunCreatedAt, int Concurrency, bool Bounded, string? Subject, int StepTimeoutMs, int UploadTimeoutMs,
    bool DeviceExists, int? IndexNo, string? RuntimeHandle, bool Quarantined, bool DeviceBusy);

/// <summary>One device of a run, for a recount (<see cref="HarnessDbContext.RecountDeviceStatusesAsync"/>).</summary>
public sealed class DeviceStatusRow
{
    public Guid RunId { get; set; }
    public string DeviceId { get; set; } = "";
    public string Status { get; set; } = "";
}

/// <summary>How much each of a run's counters moves (<see cref="HarnessDbContext.MoveRunCountersAsync"/>).</summary>
public readonly record struct RunCounterDelta(int Total, int Queued, int Running, int Succeeded, int Failed, int Skipped, int Cancelled)
{
    public void AddTo(RunEntity run)
    {
        run.TotalDevices += Total;
        run.QueuedCount += Queued;
        run.RunningCount += Running;
        run.SucceededCount += Succeeded;
        run.FailedCount += Failed;
        run.SkippedCount += Skipped;
        run.CancelledCount += Cancelled;
    }
}
