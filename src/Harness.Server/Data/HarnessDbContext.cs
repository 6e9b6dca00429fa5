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
        // A failed save inside a transaction of ours ends the whole unit of work (ConflictRetry rolls it
        // back and starts again), so EF's savepoint around each save bought nothing, and cost two round
        // trips while the transaction held its row locks.
        Database.AutoSavepointsEnabled = false;
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
    /// Reads, tracked, the device states of these runs on these devices, locking each row until the
    /// transaction ends (PostgreSQL <c>FOR UPDATE</c>, in key order so concurrent lockers cannot deadlock).
    /// </summary>
    public abstract Task<List<RunDeviceStateEntity>> LockDeviceStatesAsync(IReadOnlyCollection<Guid> runIds, IReadOnlyCollection<string> deviceIds, CancellationToken cancellationToken);

    /// <summary>
    /// Adds each delta to its run's counters in the database, in the order given (key order, so concurrent
    /// movers cannot deadlock), and returns the runs as they are now, tracked. The row stays locked until
    /// the transaction ends, so call it last, just before the commit.
    /// </summary>
    public abstract Task<List<RunEntity>> MoveRunCountersAsync(IReadOnlyList<(Guid RunId, RunCounterDelta Delta)> moves, CancellationToken cancellationToken);

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
