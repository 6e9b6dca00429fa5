using System.CommandLine;
using System.Globalization;
using Harness.Cli.Operator;
using Harness.Contracts;
using Harness.Contracts.Runs;

namespace Harness.Cli.Commands.Runs;

/// <summary><c>harness runs list [--status S] [--workflow NAME|ID] [--limit N]</c>: newest first.</summary>
internal static class ListCommand
{
    private static readonly string[] Statuses = [RunStatus.Queued, RunStatus.Running, RunStatus.Succeeded, RunStatus.Failed, RunStatus.Cancelled];

    public static Command Create(CliContext context)
    {
        var status = new Option<string?>("--status") { Description = "Only runs in this status.", HelpName = "status" };
        status.AcceptOnlyFromAmong(Statuses);
        var workflow = new Option<string?>("--workflow") { Description = "Only runs of this workflow (name or id).", HelpName = "name|id" };
        var limit = new Option<int>("--limit") { Description = "How many runs to show.", DefaultValueFactory = _ => 20, HelpName = "n" };
        Ranges.Between(limit, 1, 500);
        var command = new Command("list", "List runs, newest first: status, workflow and device counts.");
        command.Options.Add(status);
        command.Options.Add(workflow);
        command.Options.Add(limit);
        var api = ApiOptions.AddTo(command);
        OperatorAction.Set(command, context, api, async (session, parse, cancellationToken) =>
        {
            Guid? workflowId = parse.GetValue(workflow) is { } w ? (await WorkflowReference.ResolveAsync(session.Api, w, cancellationToken)).Id : null;
            var page = await session.Api.ListRunsAsync(parse.GetValue(status), workflowId, parse.GetValue(limit), null, cancellationToken);
            // The filter is also applied here, so a server that ignores workflow_id cannot show other workflows' runs.
            page = workflowId is { } wanted ? page with { Items = [.. page.Items.Where(r => r.WorkflowId == wanted)] } : page;
            if (session.Json)
            {
                JsonOutput.Write(session.Out, page, HarnessJsonContext.Default.PageRunSummary);
                return 0;
            }
            if (page.Items.Count == 0)
            {
                await session.Out.WriteLineAsync("No runs. Start one: harness runs create --workflow NAME --follow");
                return 0;
            }
            var table = new TextTable("RUN_ID", "WORKFLOW", "STATUS", "DEVICES", "SUCCEEDED", "FAILED", "SKIPPED", "CREATED", "BY");
            foreach (var run in page.Items)
            {
                var c = run.Counts;
                table.Add(run.RunId.ToString(), WorkflowLabel(run), run.Status, N(c.Total), N(c.Succeeded), N(c.Failed + c.TimedOut), N(c.SkippedOffline),
                    Formatting.Time(run.CreatedAt), run.CreatedBy);
            }
            table.WriteTo(session.Out);
            if (page.NextCursor is not null)
            {
                await session.Out.WriteLineAsync($"(more: raise --limit, now {parse.GetValue(limit)})");
            }
            return 0;
        });
        return command;
    }

    public static string WorkflowLabel(RunSummary run) =>
        run.PlaybookId is { } p ? $"playbook {p}"
            : $"{run.WorkflowName ?? run.WorkflowId?.ToString() ?? "?"}{(run.Version is { } v ? $" v{N(v)}" : "")}";

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);
}
