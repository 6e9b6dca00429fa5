using System.CommandLine;
using Harness.Cli.Operator;
using Harness.Contracts;

namespace Harness.Cli.Commands.Devices;

/// <summary><c>harness devices scan [--node PC-01]</c>: asks one node, or every node, to rescan its devices.</summary>
internal static class ScanCommand
{
    public static Command Create(CliContext context)
    {
        var node = new Option<string?>("--node") { Description = "Scan only this node (default: every node).", HelpName = "id" };
        var command = new Command("scan", "Ask nodes to rescan their devices; new devices get an index_no, missing ones are reported.");
        command.Options.Add(node);
        var api = ApiOptions.AddTo(command);
        OperatorAction.Set(command, context, api, async (session, parse, cancellationToken) =>
        {
            var scans = await session.Api.ScanAsync(parse.GetValue(node), cancellationToken);
            if (session.Json)
            {
                JsonOutput.Write(session.Out, scans, HarnessJsonContext.Default.IReadOnlyListScanJobView);
                return 0;
            }
            if (scans.Count == 0)
            {
                await session.Out.WriteLineAsync("No node to scan: no agent with the devices runtime has enrolled.");
                return 0;
            }
            var table = new TextTable("SCAN_ID", "NODE", "STATUS", "FOUND", "ADDED", "MISSING", "ERROR");
            foreach (var s in scans)
            {
                table.Add(s.ScanId.ToString(), s.NodeId, s.Status, s.Result?.Found.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",
                    s.Result is null ? "-" : string.Join(",", s.Result.Added), s.Result is null ? "-" : string.Join(",", s.Result.Missing), s.LastErrorMessage);
            }
            table.WriteTo(session.Out);
            await session.Out.WriteLineAsync("The node picks the scan up with its next pull; `harness devices list` shows what it found.");
            return 0;
        });
        return command;
    }
}
