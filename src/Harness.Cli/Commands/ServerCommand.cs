using System.CommandLine;
using Harness.Cli.Hosting;
using Harness.Server;

namespace Harness.Cli.Commands;

internal static class ServerCommand
{
    public static Command Create()
    {
        var urls = new Option<string?>("--urls")
        {
            Description = "Listen URLs, e.g. http://0.0.0.0:8080 (default: ASPNETCORE_URLS, else http://localhost:5000).",
        };
        var noMigrate = new Option<bool>("--no-migrate")
        {
            Description = "Do not apply pending migrations at start (run `harness migrate` yourself).",
        };
        var logFormat = LogFormat.CreateOption(LogFormat.Json);
        var database = new DatabaseOptionsArguments();
        var command = new Command("server",
            """
            Run the control plane: HTTP API, agent endpoints, background services.
            Production runs it on PostgreSQL (--database-provider postgres); several replicas may share one database.
            On first start without HARNESS_ADMIN_TOKEN it prints a generated admin token once.
            """);
        command.Options.Add(urls);
        command.Options.Add(noMigrate);
        command.Options.Add(logFormat);
        database.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var configuration = database.ToConfiguration(parse);
            if (parse.GetValue(noMigrate))
            {
                configuration["Harness:MigrateOnStart"] = "false";
            }
            var app = HarnessServerHost.Build(new ServerHostSettings
            {
                Urls = parse.GetValue(urls),
                Configuration = configuration,
                ConfigureLogging = LogFormat.Configure(parse.GetValue(logFormat)!),
            });
            var token = await HarnessServerHost.PrepareAsync(app, cancellationToken);
            if (token is not null)
            {
                Banner.AdminTokenGenerated(token);
            }
            await app.RunAsync();
            return 0;
        });
        return command;
    }
}
