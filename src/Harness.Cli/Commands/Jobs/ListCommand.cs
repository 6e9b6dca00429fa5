using System.CommandLine;
using Harness.Cli.Operator;
using Harness.Contracts;
using Harness.Contracts.Jobs;

namespace Harness.Cli.Commands.Jobs;

/// <summary><c>harness jobs list [--status S] [--type T] [--limit N]</c>: newest first.</summary>
internal static class ListCommand
{
    public static Command Create(CliContext context)
    {
        var status = new Option<string?>("--status") { Description = "Only jobs in this status.", HelpName = "status" };
        status.AcceptOnlyFromAmong([JobStatusNames.Queued, JobStatusNames.Dispatched, JobStatusNames.Running, .. JobStatusNames.Terminal]);
        var type = new Option<string?>("--type") { Description = "Only jobs of this type (sandbox, archive, restore).", HelpName = "type" };
        var limit = new Option<int>("--limit") { Description = "How many jobs to show.", DefaultValueFactory = _ => 20, HelpName = "n" };
        Ranges.Between(limit, 1, 500);
        var command = new Command("list", "List jobs, newest first.");
        command.Options.Add(status);
        command.Options.Add(type);
        command.Options.Add(limit);
        var api = ApiOptions.AddTo(command);
        OperatorAction.Set(command, context, api, async (session, parse, cancellationToken) =>
        {
            var page = await session.Api.ListJobsAsync(parse.GetValue(status), parse.GetValue(type), parse.GetValue(limit), null, cancellationToken);
            if (session.Json)
            {
                JsonOutput.Write(session.Out, page, HarnessJsonContext.Default.PageJobView);
                return 0;
            }
            if (page.Items.Count == 0)
            {
                await session.Out.WriteLineAsync("No jobs. Run one: harness jobs run --image IMAGE -- CMD …");
                return 0;
            }
            var table = new TextTable("JOB_ID", "TYPE", "STATUS", "EXIT", "CREATED", "FINISHED", "MESSAGE");
            foreach (var job in page.Items)
            {
                table.Add(job.Id.ToString(), job.Type, job.Status, job.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Formatting.Time(job.CreatedAt), Formatting.Time(job.FinishedAt), Formatting.Truncate(job.LastErrorMessage, 60));
            }
            table.WriteTo(session.Out);
            return 0;
        });
        return command;
    }
}
