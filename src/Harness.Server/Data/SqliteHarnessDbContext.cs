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

    // The IMMEDIATE transaction already holds the only lock SQLite has.
    public override Task AcquireLockAsync(HarnessLock key, CancellationToken cancellationToken) => Task.CompletedTask;

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite has no timestamp type; as text it cannot be compared or ordered in queries.
        // Every time Harness stores is UTC, so the binary form orders correctly.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}
