using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Harness.Server.Data;

public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers the provider-specific context, pooled (a request rents one instead of building one and its
    /// services: a few percent of a callback's CPU), and exposes it as <see cref="HarnessDbContext"/>.
    /// </summary>
    public static IServiceCollection AddHarnessStorage(this IServiceCollection services, DatabaseOptions database)
    {
        // An invalid value is left as it is: options validation reports it with every other error at start.
        ConnectionStrings.TryNormalize(database.Provider, database.ConnectionString, out var connectionString, out _);
        switch (database.Provider)
        {
            case DatabaseOptions.Postgres:
                services.AddDbContextPool<PostgresHarnessDbContext>(o => o.UseNpgsql(connectionString).AddInterceptors(MovesLeftInterceptor.Instance));
                services.TryAddScoped<HarnessDbContext>(sp => sp.GetRequiredService<PostgresHarnessDbContext>().Rented());
                break;
            default:
                services.AddDbContextPool<SqliteHarnessDbContext>(o => o.UseSqlite(connectionString));
                services.TryAddScoped<HarnessDbContext>(sp => sp.GetRequiredService<SqliteHarnessDbContext>().Rented());
                break;
        }
        services.TryAddSingleton<DatabaseMigrator>();
        return services;
    }
}
