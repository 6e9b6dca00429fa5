using System.CommandLine;
using System.Globalization;
using Harness.Cli.Operator;
using Harness.Contracts;
using Harness.Contracts.Nodes;

namespace Harness.Cli.Commands.Devices;

/// <summary><c>harness devices list [--node PC-01] [--offline]</c>: every device by index_no.</summary>
internal static class ListCommand
{
    public static Command Create(CliContext context)
    {
        var node = new Option<string?>("--node") { Description = "Only devices on this node.", HelpName = "id" };
        var offline = new Option<bool>("--offline") { Description = "Only Offline devices." };
        var command = new Command("list", "List devices: index, device_id, node, model, Online/Offline, state, last seen and last error.");
        command.Options.Add(node);
        command.Options.Add(offline);
        var api = ApiOptions.AddTo(command);
        OperatorAction.Set(command, context, api, async (session, parse, cancellationToken) =>
        {
            var devices = (await session.Api.ListDevicesAsync(cancellationToken))
                .Where(d => parse.GetValue(node) is not { } n || string.Equals(d.NodeId, n, StringComparison.OrdinalIgnoreCase))
                .Where(d => !parse.GetValue(offline) || d.Status == OnlineStatus.Offline)
                .OrderBy(d => d.IndexNo ?? int.MaxValue).ThenBy(d => d.NodeId, StringComparer.Ordinal).ThenBy(d => d.DeviceId, StringComparer.Ordinal)
                .ToList();
            if (session.Json)
            {
                JsonOutput.Write(session.Out, devices, HarnessJsonContext.Default.ListDeviceView);
                return 0;
            }
            if (devices.Count == 0)
            {
                await session.Out.WriteLineAsync("No devices. Agents report theirs with each heartbeat; `harness devices scan` asks them to look again.");
                return 0;
            }
            var now = session.Context.Time.GetUtcNow();
            var table = new TextTable("INDEX", "DEVICE_ID", "NODE", "MODEL", "STATUS", "STATE", "LAST_SEEN", "ERROR");
            foreach (var d in devices)
            {
                table.Add(d.IndexNo?.ToString(CultureInfo.InvariantCulture) ?? "-", d.DeviceId, d.NodeId, d.Model ?? "-", d.Status, d.QuarantinedAt is null ? d.State ?? "-" : "quarantined",
                    Formatting.Ago(d.LastSeen, now), Formatting.Truncate(d.LastErrorMessage, 60));
            }
            table.WriteTo(session.Out);
            var online = devices.Count(d => d.Status == OnlineStatus.Online);
            await session.Out.WriteLineAsync($"{devices.Count} devices: {online} Online, {devices.Count - online} Offline");
            return 0;
        });
        return command;
    }
}
