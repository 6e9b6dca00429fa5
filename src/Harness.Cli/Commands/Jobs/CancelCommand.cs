using System.CommandLine;
using Harness.Cli.Operator;
using Harness.Contracts;

namespace Harness.Cli.Commands.Jobs;

/// <summary><c>harness jobs cancel ID</c>.</summary>
internal static class CancelCommand
{
    public static Command Create(CliContext context)
    {
        var id = Parsers.IdArgument("job-id", "The job's id.");
        var command = new Command("cancel", "Cancel a job: a queued one at once, a running one is killed by its agent within seconds.");
        command.Arguments.Add(id);
        var api = ApiOptions.AddTo(command);
        OperatorAction.Set(command, context, api, async (session, parse, cancellationToken) =>
        {
            var job = await session.Api.CancelJobAsync(parse.GetValue(id), cancellationToken);
            if (session.Json)
            {
                JsonOutput.Write(session.Out, job, HarnessJsonContext.Default.JobDetail);
                return 0;
            }
            await session.Out.WriteLineAsync($"Cancel requested for job {job.Id}: now {job.Status}.");
            return 0;
        });
        return command;
    }
}
