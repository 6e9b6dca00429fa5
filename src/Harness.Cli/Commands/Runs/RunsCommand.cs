using System.CommandLine;
using Harness.Cli.Operator;

namespace Harness.Cli.Commands.Runs;

internal static class RunsCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("runs", "Start a workflow or playbook on a set of devices, watch it, list, show and cancel runs.");
        command.Subcommands.Add(CreateCommand.Create(context));
        command.Subcommands.Add(ListCommand.Create(context));
        command.Subcommands.Add(ShowCommand.Create(context));
        command.Subcommands.Add(CancelCommand.Create(context));
        return command;
    }
}
