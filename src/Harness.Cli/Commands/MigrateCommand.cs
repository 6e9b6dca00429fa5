using System.CommandLine;
using Harness.Cli.Hosting;
using Harness.Server;
using Harness.Server.Data;

namespace Harness.Cli.Commands;

internal static class MigrateCommand
{
    public static Command Create()
    {
        var database = new DatabaseOptionsArguments();
        var command = new Command("migrate",
            "Apply pending schema migrations to the configured database and exit. `harness server` does this at start unless --no-migrate.");
        database.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var app = HarnessServerHost.Build(new ServerHostSettings
            {
                Configuration = database.ToConfiguration(parse),
                ConfigureLogging = LogFormat.Configure(LogFormat.Text),
            });
            await using (app)
            {
                var applied = await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(cancellationToken);
                Console.WriteLine(applied.Count == 0
                    ? "Database is up to date."
                    : $"Applied {applied.Count} migration(s): {string.Join(", ", applied)}");
            }
            return 0;
        });
        return command;
    }
}
