using System.CommandLine;
using Harness.Cli.Operator;
using Harness.Cli.Operator.Progress;
using Harness.Contracts;

namespace Harness.Cli.Commands.Runs;

/// <summary><c>harness runs cancel ID</c>: devices not yet ended are cancelled; ended ones keep their result.</summary>
internal static class CancelCommand
{
    public static Command Create(CliContext context)
    {
        var id = Parsers.IdArgument("run-id", "The run's id.");
        var command = new Command("cancel", "Cancel a run: queued devices never start, running ones are told to stop.");
        command.Arguments.Add(id);
        var api = ApiOptions.AddTo(command);
        OperatorAction.Set(command, context, api, async (session, parse, cancellationToken) =>
        {
            var run = await session.Api.CancelRunAsync(parse.GetValue(id), cancellationToken);
            if (session.Json)
            {
                JsonOutput.Write(session.Out, run, HarnessJsonContext.Default.RunSummary);
                return 0;
            }
            await session.Out.WriteLineAsync($"Cancel requested for run {run.RunId}: now {run.Status}.");
            await session.Out.WriteLineAsync($"  {RunProgressView.NonZeroCounts(run.Counts)}");
            return 0;
        });
        return command;
    }
}
