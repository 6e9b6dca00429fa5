using Harness.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Harness.Server.Data;

public sealed class SqliteHarnessDbContext(DbContextOptions<SqliteHarnessDbContext> options) : HarnessDbContext(options)
{
    protected override string JsonColumnType => "TEXT";

    // Microsoft.Data.Sqlite begins transactions IMMEDIATE: the database's write lock is held from the start.
    public override Task<IDbContextTransaction> BeginLockedTransactionAsync(HarnessLock key, CancellationToken cancellationToken) =>
        Database.BeginTransactionAsync(cancellationToken);

    // One writer at a time: a shared hold is the exclusive one, and rows need no locks of their own.
    public override Task<IDbContextTransaction> BeginSharedLockedTransactionAsync(HarnessLock key, CancellationToken cancellationToken) =>
        Database.BeginTransactionAsync(cancellationToken);

    public override async Task<List<RunDeviceStateEntity>> LockDeviceStatesAsync(IReadOnlyCollection<(Guid RunId, string DeviceId)> keys, CancellationToken cancellationToken)
    {
        var runIds = keys.Select(k => k.RunId).Distinct().ToList();
        var deviceIds = keys.Select(k => k.DeviceId).Distinct().ToList();
        var wanted = keys.ToHashSet();
        var rows = await RunDeviceStates.Where(s => runIds.Contains(s.RunId) && deviceIds.Contains(s.DeviceId)).ToListAsync(cancellationToken);
        return rows.Where(s => wanted.Contains((s.RunId, s.DeviceId))).ToList();
    }

    public override Task LockKeysAsync(KeyedLock space, IEnumerable<Guid> keys, CancellationToken cancellationToken) => Task.CompletedTask;

    // The IMMEDIATE transaction already holds the only lock SQLite has: read, add, save.
    public override async Task<(List<RunEntity> Moved, bool Deferred)> MoveRunCountersAsync(IReadOnlyList<(Guid RunId, RunCounterDelta Delta)> moves, CancellationToken cancellationToken)
    {
        var ids = moves.Select(m => m.RunId).ToList();
        var runs = await Runs.Where(r => ids.Contains(r.Id)).ToDictionaryAsync(r => r.Id, cancellationToken);
        foreach (var (id, d) in moves)
        {
            if (runs.TryGetValue(id, out var run))
            {
                d.AddTo(run);
            }
        }
        await SaveChangesAsync(cancellationToken);
        return ([.. runs.Values], false);
    }

    public override Task<List<DeviceStatusRow>> RecountDeviceStatusesAsync(IReadOnlyCollection<Guid> runIds, CancellationToken cancellationToken) =>
        RunDeviceStates.AsNoTracking()
            .Where(s => runIds.Contains(s.RunId))
            .Select(s => new DeviceStatusRow { RunId = s.RunId, DeviceId = s.DeviceId, Status = s.Status })
            .ToListAsync(cancellationToken);

    public override Task NotifyAsync(string channel, string payload, CancellationToken cancellationToken) => Task.CompletedTask;

    // The IMMEDIATE transaction already holds the only lock SQLite has.
    public override Task AcquireLockAsync(HarnessLock key, CancellationToken cancellationToken) => Task.CompletedTask;

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite has no timestamp type; as text it cannot be compared or ordered in queries.
        // Every time Harness stores is UTC, so the binary form orders correctly.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}
