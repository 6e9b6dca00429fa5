using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Data;

public sealed class PostgresHarnessDbContext(DbContextOptions<PostgresHarnessDbContext> options) : HarnessDbContext(options)
{
    protected override string JsonColumnType => "jsonb";
}
