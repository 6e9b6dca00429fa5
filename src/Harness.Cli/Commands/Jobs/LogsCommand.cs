using System.CommandLine;
using Harness.Cli.Operator;
using Harness.Contracts.Jobs;

namespace Harness.Cli.Commands.Jobs;

/// <summary><c>harness jobs logs ID [--follow]</c>.</summary>
internal static class LogsCommand
{
    public static Command Create(CliContext context)
    {
        var id = Parsers.IdArgument("job-id", "The job's id.");
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep streaming until the job ends, then exit with its exit code." };
        var command = new Command("logs", "Print a job's output (stdout to stdout, stderr and Harness's lines to stderr).");
        command.Arguments.Add(id);
        command.Options.Add(follow);
        var api = ApiOptions.AddTo(command);
        OperatorAction.Set(command, context, api, async (session, parse, cancellationToken) =>
        {
            var jobId = parse.GetValue(id);
            if (parse.GetValue(follow))
            {
                var job = await new JobFollower(context, session.Api).FollowAsync(jobId, cancellationToken);
                await context.Error.WriteLineAsync("harness: " + JobFollower.Summary(job));
                return JobFollower.ExitCode(job);
            }
            await foreach (var line in session.Api.ReadJobLogsAsync(jobId, follow: false, cancellationToken: cancellationToken))
            {
                await (line.Stream == JobLogStreams.Stdout ? context.Out : context.Error).WriteLineAsync(line.Text);
            }
            return 0;
        });
        return command;
    }
}
