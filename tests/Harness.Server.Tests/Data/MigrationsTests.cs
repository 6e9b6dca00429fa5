using Harness.Testing;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Tests.Data;

public abstract class MigrationsTests(string provider) : ApiTest(provider)
{
    [Fact]
    public async Task Model_MatchesTheLastMigration()
    {
        var pending = await QueryAsync(db => Task.FromResult(db.Database.HasPendingModelChanges()));

        Assert.False(pending, $"the model has changes no {Provider} migration holds; run `dotnet ef migrations add` for both providers (docs/development.md)");
    }

    [Fact]
    public async Task Migrate_OnAMigratedDatabase_AppliesNothing()
    {
        var applied = await QueryAsync(db => db.Database.GetAppliedMigrationsAsync());
        var pending = await QueryAsync(db => db.Database.GetPendingMigrationsAsync());

        Assert.NotEmpty(applied);
        Assert.Empty(pending);
    }

    [Fact]
    public async Task Schema_HasEveryTableOfTheDesign()
    {
        string[] tables =
        [
            "agents", "worker_heartbeats", "devices", "workflows", "command_assets", "playbooks", "runs",
            "run_device_states", "run_steps", "artifacts", "callback_events", "scan_jobs", "jobs",
            "workspaces", "audit_log", "users", "operator_tokens",
        ];
        foreach (var table in tables)
        {
            // A count on each table proves it exists in the migrated database, not only in the model.
#pragma warning disable EF1002 // the table names are this test's own constants
            var count = await QueryAsync(db => db.Database.SqlQueryRaw<int>($"SELECT COUNT(*) AS \"Value\" FROM {table}").SingleAsync());
#pragma warning restore EF1002
            Assert.True(count >= 0, table);
        }
    }
}

public sealed class MigrationsTests_Sqlite() : MigrationsTests(Providers.Sqlite);

public sealed class MigrationsTests_Postgres() : MigrationsTests(Providers.Postgres);
