using Harness.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Harness.Server.Data;

public sealed class PostgresHarnessDbContext(DbContextOptions<PostgresHarnessDbContext> options) : HarnessDbContext(options)
{
    protected override string JsonColumnType => "jsonb";

    public override async Task<IDbContextTransaction> BeginLockedTransactionAsync(HarnessLock key, CancellationToken cancellationToken)
    {
        var transaction = await Database.BeginTransactionAsync(cancellationToken);
        await AcquireLockAsync(key, cancellationToken);
        return transaction;
    }

    public override async Task<IDbContextTransaction> BeginSharedLockedTransactionAsync(HarnessLock key, CancellationToken cancellationToken)
    {
        var transaction = await Database.BeginTransactionAsync(cancellationToken);
        var lockKey = (long)key;
        await Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock_shared({lockKey})", cancellationToken);
        return transaction;
    }

    public override Task<List<RunDeviceStateEntity>> LockDeviceStatesAsync(IReadOnlyCollection<Guid> runIds, IReadOnlyCollection<string> deviceIds, CancellationToken cancellationToken) =>
        RunDeviceStates.FromSql($"""
            SELECT * FROM run_device_states
            WHERE run_id = ANY({runIds.ToArray()}) AND device_id = ANY({deviceIds.ToArray()})
            ORDER BY run_id, device_id FOR UPDATE
            """).ToListAsync(cancellationToken);

    public override Task<List<RunEntity>> LockRunsAsync(IReadOnlyCollection<Guid> runIds, CancellationToken cancellationToken) =>
        Runs.FromSql($"SELECT * FROM runs WHERE id = ANY({runIds.ToArray()}) ORDER BY id FOR UPDATE").ToListAsync(cancellationToken);

    public override async Task AcquireLockAsync(HarnessLock key, CancellationToken cancellationToken)
    {
        var lockKey = (long)key;
        await Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({lockKey})", cancellationToken);
    }
}
