using System.CommandLine;
using System.Runtime.InteropServices;
using Harness.Agent;

namespace Harness.Cli.Commands;

internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the Harness version and the .NET runtime it runs on.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"harness {AgentVersion.Current} ({RuntimeInformation.FrameworkDescription}, {RuntimeInformation.RuntimeIdentifier})");
            return 0;
        });
        return command;
    }
}
