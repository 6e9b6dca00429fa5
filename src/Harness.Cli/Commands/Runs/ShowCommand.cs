using System.CommandLine;
using System.Globalization;
using Harness.Cli.Operator;
using Harness.Cli.Operator.Progress;
using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Runs;

namespace Harness.Cli.Commands.Runs;

/// <summary><c>harness runs show ID [--follow]</c>: the run's summary and one row per device.</summary>
internal static class ShowCommand
{
    public static Command Create(CliContext context)
    {
        var id = Parsers.IdArgument("run-id", "The run's id (from `harness runs list`).");
        var follow = new Option<bool>("--follow", "-f") { Description = "Watch the run until it ends; exit 0 if it succeeded, 1 otherwise (with --json: only the final run is printed)." };
        var command = new Command("show", "Show a run: its status and counts, then every device with its state, failure reason, steps and artifacts.");
        command.Arguments.Add(id);
        command.Options.Add(follow);
        var api = ApiOptions.AddTo(command);
        OperatorAction.Set(command, context, api, async (session, parse, cancellationToken) =>
        {
            var runId = parse.GetValue(id);
            if (parse.GetValue(follow))
            {
                return await new RunFollower(session.Context, session.Api, session.Json).FollowAsync(runId, cancellationToken);
            }
            var detail = await session.Api.GetRunAsync(runId, cancellationToken);
            if (session.Json)
            {
                JsonOutput.Write(session.Out, detail, HarnessJsonContext.Default.RunDetail);
                return 0;
            }
            Write(session.Out, detail, session.Context.Time.GetUtcNow());
            return 0;
        });
        return command;
    }

    public static void Write(TextWriter output, RunDetail detail, DateTimeOffset now)
    {
        var run = detail.Run;
        output.WriteLine(RunProgressView.Header(run, now));
        output.WriteLine($"  workflow    {ListCommand.WorkflowLabel(run)}");
        output.WriteLine($"  target      {Target(detail.Target)}");
        output.WriteLine($"  concurrency {run.Concurrency.ToString(CultureInfo.InvariantCulture)}");
        if (detail.Vars.Count > 0)
        {
            output.WriteLine($"  vars        {string.Join(" ", detail.Vars.Select(v => $"{v.Key}={v.Value}"))}");
        }
        if (run.Subject is not null)
        {
            output.WriteLine($"  subject     {run.Subject}");
        }
        output.WriteLine($"  created     {Formatting.Time(run.CreatedAt)}{(run.CreatedBy is null ? "" : $" by {run.CreatedBy}")}");
        if (run.LastErrorMessage is not null)
        {
            output.WriteLine($"  error       {run.LastErrorMessage}");
        }
        output.WriteLine($"  devices     {RunProgressView.CountsLine(run.Counts)}");
        output.WriteLine($"  progress    {RunProgressView.ProgressBar(run.Counts)}");
        output.WriteLine();
        var table = new TextTable("INDEX", "DEVICE", "NODE", "STATUS", "REASON", "STEPS", "ARTIFACTS", "ATTEMPT");
        foreach (var d in RunProgressView.Ordered(detail.Devices))
        {
            var done = d.Steps.Count(s => s.Status == StepStatus.Succeeded);
            table.Add(d.IndexNo?.ToString(CultureInfo.InvariantCulture) ?? "-", d.DeviceId, d.NodeId, d.Status, d.FailureReason ?? "",
                $"{done.ToString(CultureInfo.InvariantCulture)}/{d.Steps.Count.ToString(CultureInfo.InvariantCulture)}",
                d.Artifacts.Count.ToString(CultureInfo.InvariantCulture), d.Attempt.ToString(CultureInfo.InvariantCulture));
        }
        if (table.Count == 0)
        {
            output.WriteLine("No devices matched the target.");
        }
        else
        {
            table.WriteTo(output);
        }
    }

    private static string Target(RunTarget target) =>
        target.NodeIds is { Count: > 0 } nodes ? $"nodes {string.Join(",", nodes)}"
        : target.DeviceIds is { Count: > 0 } devices ? $"devices {string.Join(",", devices)}"
        : target.IndexRange is { } range ? $"index range {range}"
        : target.Labels is { Count: > 0 } labels ? $"labels {string.Join(" ", labels.Select(l => $"{l.Key}={l.Value}"))}"
        : "all devices";
}
