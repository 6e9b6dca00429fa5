using System.CommandLine;
using System.Globalization;
using Harness.Cli.Operator;
using Harness.Contracts;

namespace Harness.Cli.Commands.Workflows;

/// <summary><c>harness workflows list</c>: every workflow with its latest version.</summary>
internal static class ListCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("list", "List workflows: name, latest version, steps, last pushed.");
        var api = ApiOptions.AddTo(command);
        OperatorAction.Set(command, context, api, async (session, _, cancellationToken) =>
        {
            var workflows = await session.Api.ListWorkflowsAsync(null, cancellationToken);
            if (session.Json)
            {
                JsonOutput.Write(session.Out, workflows, HarnessJsonContext.Default.IReadOnlyListWorkflowView);
                return 0;
            }
            if (workflows.Count == 0)
            {
                await session.Out.WriteLineAsync("No workflows yet. Push one: harness workflows push examples/workflows/login-and-capture.json");
                return 0;
            }
            var table = new TextTable("NAME", "VERSION", "STEPS", "UPDATED", "WORKFLOW_ID", "DESCRIPTION");
            foreach (var w in workflows.OrderBy(w => w.Name, StringComparer.Ordinal))
            {
                table.Add(w.Name, $"v{w.LatestVersion.ToString(CultureInfo.InvariantCulture)}", w.Steps.ToString(CultureInfo.InvariantCulture),
                    Formatting.Time(w.UpdatedAt), w.WorkflowId.ToString(), Formatting.Truncate(w.Description, 50));
            }
            table.WriteTo(session.Out);
            return 0;
        });
        return command;
    }
}
