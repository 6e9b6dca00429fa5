using System.CommandLine;
using Harness.Cli.Operator;

namespace Harness.Cli.Commands.Jobs;

internal static class JobsCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("jobs", "Run commands in hardened sandboxes on agents with the sandbox runtime; list, show, follow and cancel jobs.");
        command.Subcommands.Add(RunCommand.Create(context));
        command.Subcommands.Add(ListCommand.Create(context));
        command.Subcommands.Add(ShowCommand.Create(context));
        command.Subcommands.Add(LogsCommand.Create(context));
        command.Subcommands.Add(CancelCommand.Create(context));
        return command;
    }
}
