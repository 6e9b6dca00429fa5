using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Harness.Server.Data;

public static class StorageServiceCollectionExtensions
{
    /// <summary>Registers the provider-specific context and exposes it as <see cref="HarnessDbContext"/>.</summary>
    public static IServiceCollection AddHarnessStorage(this IServiceCollection services, DatabaseOptions database)
    {
        switch (database.Provider)
        {
            case DatabaseOptions.Postgres:
                services.AddDbContext<PostgresHarnessDbContext>(o => o.UseNpgsql(database.ConnectionString));
                services.TryAddScoped<HarnessDbContext>(sp => sp.GetRequiredService<PostgresHarnessDbContext>());
                break;
            default:
                services.AddDbContext<SqliteHarnessDbContext>(o => o.UseSqlite(database.ConnectionString));
                services.TryAddScoped<HarnessDbContext>(sp => sp.GetRequiredService<SqliteHarnessDbContext>());
                break;
        }
        services.TryAddSingleton<DatabaseMigrator>();
        return services;
    }
}
