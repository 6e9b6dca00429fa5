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

    public override async Task<List<RunEntity>> MoveRunCountersAsync(IReadOnlyList<(Guid RunId, RunCounterDelta Delta)> moves, CancellationToken cancellationToken)
    {
        var runs = new List<RunEntity>(moves.Count);
        foreach (var (id, d) in moves)
        {
            runs.AddRange(await Runs.FromSql($"""
                UPDATE runs SET total_devices = total_devices + {d.Total}, queued_count = queued_count + {d.Queued},
                    running_count = running_count + {d.Running}, succeeded_count = succeeded_count + {d.Succeeded},
                    failed_count = failed_count + {d.Failed}, skipped_count = skipped_count + {d.Skipped},
                    cancelled_count = cancelled_count + {d.Cancelled}
                WHERE id = {id} RETURNING *
                """).ToListAsync(cancellationToken));
        }
        return runs;
    }

    public override Task NotifyAsync(string channel, string payload, CancellationToken cancellationToken) =>
        Database.ExecuteSqlAsync($"SELECT pg_notify({channel}, {payload})", cancellationToken);

    public override async Task AcquireLockAsync(HarnessLock key, CancellationToken cancellationToken)
    {
        var lockKey = (long)key;
        await Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({lockKey})", cancellationToken);
    }
}
