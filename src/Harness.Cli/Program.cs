using System.CommandLine;
using Harness.Cli.Commands;
using Harness.Cli.Commands.Dashboard;
using Harness.Cli.Commands.Devices;
using Harness.Cli.Commands.Jobs;
using Harness.Cli.Commands.Runs;
using Harness.Cli.Commands.Workflows;
using Harness.Cli.Hosting;
using Harness.Cli.Operator;

var root = new RootCommand(
    """
    Harness: a self-hosted control plane for running automation on fleets of Android devices,
    Docker hosts, Kubernetes clusters and sandboxes.

    Start with `harness dev` (everything in one process on SQLite), then see docs/ for
    production: `harness server` on PostgreSQL and one `harness agent` per farm PC or host.
    Operate it with `harness workflows`, `harness runs`, `harness devices` and `harness dashboard` (docs/cli.md).
    """);
root.Subcommands.Add(DevCommand.Create());
root.Subcommands.Add(ServerCommand.Create());
root.Subcommands.Add(AgentCommand.Create());
root.Subcommands.Add(MigrateCommand.Create());
root.Subcommands.Add(DeviceSimCommand.Create());
root.Subcommands.Add(VersionCommand.Create());
root.Subcommands.Add(WorkflowsCommand.Create(CliContext.Default));
root.Subcommands.Add(RunsCommand.Create(CliContext.Default));
root.Subcommands.Add(DevicesCommand.Create(CliContext.Default));
root.Subcommands.Add(DashboardCommand.Create(CliContext.Default));
root.Subcommands.Add(JobsCommand.Create(CliContext.Default));

// The hosts handle SIGINT/SIGTERM themselves (graceful shutdown); System.CommandLine must not cut it short.
return await StartupErrors.RunAsync(() => root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false }));
