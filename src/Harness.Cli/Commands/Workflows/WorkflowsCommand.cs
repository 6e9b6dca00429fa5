using System.CommandLine;
using Harness.Cli.Operator;

namespace Harness.Cli.Commands.Workflows;

internal static class WorkflowsCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("workflows", "Push, list and show workflows (versioned JSON recipes of device steps).");
        command.Subcommands.Add(PushCommand.Create(context));
        command.Subcommands.Add(ListCommand.Create(context));
        command.Subcommands.Add(ShowCommand.Create(context));
        return command;
    }
}
