using System.CommandLine;
using Harness.Cli.Operator;

namespace Harness.Cli.Commands.Devices;

internal static class DevicesCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("devices", "List the fleet's devices and ask nodes to rescan them.");
        command.Subcommands.Add(ListCommand.Create(context));
        command.Subcommands.Add(ScanCommand.Create(context));
        return command;
    }
}
