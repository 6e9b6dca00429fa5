using System.CommandLine;
using System.Globalization;
using Harness.Cli.Operator;
using Harness.Contracts;
using Harness.Contracts.Dashboard;

namespace Harness.Cli.Commands.Dashboard;

/// <summary><c>harness dashboard [--window 24h]</c>: the console's front page as text: KPIs, then what needs an operator.</summary>
internal static class DashboardCommand
{
    public static Command Create(CliContext context)
    {
        var window = new Option<string>("--window")
        {
            Description = "Time window: a number with m, h or d (90m, 24h, 7d).",
            HelpName = "span",
            DefaultValueFactory = _ => "24h",
        };
        var command = new Command("dashboard", "Show KPIs over a window (runs, device success rate, online ratio, failures by reason) and what needs attention.");
        command.Options.Add(window);
        var api = ApiOptions.AddTo(command);
        OperatorAction.Set(command, context, api, async (session, parse, cancellationToken) =>
        {
            var dashboard = await session.Api.GetDashboardAsync(parse.GetValue(window)!, cancellationToken);
            if (session.Json)
            {
                JsonOutput.Write(session.Out, dashboard, HarnessJsonContext.Default.DashboardResponse);
                return 0;
            }
            Write(session.Out, dashboard, session.Context.Time.GetUtcNow());
            return 0;
        });
        return command;
    }

    public static void Write(TextWriter output, DashboardResponse dashboard, DateTimeOffset now)
    {
        var k = dashboard.Kpis;
        output.WriteLine($"Last {dashboard.Window} (since {Formatting.Time(dashboard.Since)})");
        output.WriteLine($"  runs          {N(k.Runs)}: {N(k.RunsRunning)} running, {N(k.RunsSucceeded)} succeeded, {N(k.RunsFailed)} failed, {N(k.RunsCancelled)} cancelled");
        output.WriteLine($"  device tasks  {N(k.DeviceTasks)}: {N(k.DeviceTasksSucceeded)} succeeded ({Percent(k.DeviceSuccessRate)})");
        output.WriteLine($"  devices       {N(k.DevicesOnline)} of {N(k.DevicesTotal)} Online ({Percent(k.OnlineRatio)})");
        output.WriteLine($"  task duration p50 {Millis(k.TaskDurationP50Ms)}, p95 {Millis(k.TaskDurationP95Ms)}");
        if (k.FailuresByReason.Count > 0)
        {
            output.WriteLine($"  failures      {string.Join(", ", k.FailuresByReason.OrderByDescending(f => f.Value).Select(f => $"{f.Key} {N(f.Value)}"))}");
        }
        var todo = dashboard.Todo;
        if (todo.OfflineDevices.Count + todo.QuarantinedDevices.Count + todo.FailedRuns.Count + todo.AgentsInError.Count == 0)
        {
            output.WriteLine();
            output.WriteLine("Nothing needs attention.");
            return;
        }
        Section(output, "Agents in error", todo.AgentsInError.Select(a => $"{a.Name}  {a.Status}  last seen {Formatting.Ago(a.LastSeen, now)}  {a.LastErrorMessage}"));
        Section(output, "Failed runs", todo.FailedRuns.Select(r => $"{r.RunId}  {r.WorkflowName ?? "-"}  {N(r.Failed)}/{N(r.Total)} failed  (harness runs show {r.RunId})"));
        Section(output, "Offline devices", todo.OfflineDevices.Select(Device(now)));
        Section(output, "Quarantined devices", todo.QuarantinedDevices.Select(Device(now)));
    }

    private static Func<TodoDevice, string> Device(DateTimeOffset now) =>
        d => $"#{d.IndexNo?.ToString(CultureInfo.InvariantCulture) ?? "?"} {d.DeviceId}  {d.NodeId}  last seen {Formatting.Ago(d.LastSeen, now)}  {d.LastErrorMessage}".TrimEnd();

    private static void Section(TextWriter output, string title, IEnumerable<string> lines)
    {
        var list = lines.ToList();
        if (list.Count == 0)
        {
            return;
        }
        output.WriteLine();
        output.WriteLine($"{title} ({N(list.Count)}):");
        foreach (var line in list)
        {
            output.WriteLine($"  {line.TrimEnd()}");
        }
    }

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Percent(double? ratio) => ratio is { } r ? (r * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%" : "-";

    private static string Millis(long? ms) => ms is { } v ? Formatting.Elapsed(TimeSpan.FromMilliseconds(v)) : "-";
}
