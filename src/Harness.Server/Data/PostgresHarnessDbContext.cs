using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Harness.Server.Data;

public sealed class PostgresHarnessDbContext(DbContextOptions<PostgresHarnessDbContext> options) : HarnessDbContext(options)
{
    /// <summary>Key of the transaction-scoped advisory lock that guards index_no allocation.</summary>
    private const long DeviceIndexLockKey = 0x4841_524E_4958; // "HARNIX"

    protected override string JsonColumnType => "jsonb";

    public override async Task<IDbContextTransaction> BeginDeviceIndexTransactionAsync(CancellationToken cancellationToken)
    {
        var transaction = await Database.BeginTransactionAsync(cancellationToken);
        await Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({DeviceIndexLockKey})", cancellationToken);
        return transaction;
    }
}
