using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Harness.Server.Data;

// Used only by `dotnet ef migrations add`; the connection strings are never opened.
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteHarnessDbContext>
{
    public SqliteHarnessDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteHarnessDbContext>().UseSqlite("Data Source=design.db").Options);
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresHarnessDbContext>
{
    public PostgresHarnessDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresHarnessDbContext>().UseNpgsql("Host=localhost;Database=design").Options);
}
