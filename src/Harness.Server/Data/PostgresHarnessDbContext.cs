using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Harness.Server.Data;

public sealed class PostgresHarnessDbContext(DbContextOptions<PostgresHarnessDbContext> options) : HarnessDbContext(options)
{
    protected override string JsonColumnType => "jsonb";

    public override async Task<IDbContextTransaction> BeginLockedTransactionAsync(HarnessLock key, CancellationToken cancellationToken)
    {
        var transaction = await Database.BeginTransactionAsync(cancellationToken);
        var lockKey = (long)key;
        await Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({lockKey})", cancellationToken);
        return transaction;
    }

    public override async Task AcquireLockAsync(HarnessLock key, CancellationToken cancellationToken)
    {
        var lockKey = (long)key;
        await Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({lockKey})", cancellationToken);
    }
}
