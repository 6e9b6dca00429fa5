using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Harness.Cli.Operator;
using Harness.Contracts;
using Harness.Contracts.Workflows;

namespace Harness.Cli.Commands.Workflows;

/// <summary><c>harness workflows show NAME|ID [--version N]</c>: one version's steps (the latest by default).</summary>
internal static class ShowCommand
{
    public static Command Create(CliContext context)
    {
        var workflow = new Argument<string>("workflow") { Description = "Workflow name or workflow_id.", HelpName = "name|id" };
        var version = Parsers.IntOption("--version", "Version to show (default: the latest).");
        Ranges.AtLeast(version, 1);
        var command = new Command("show", "Show a workflow version: its steps, parameters and timeouts, and the versions that exist.");
        command.Arguments.Add(workflow);
        command.Options.Add(version);
        var api = ApiOptions.AddTo(command);
        OperatorAction.Set(command, context, api, async (session, parse, cancellationToken) =>
        {
            var (id, view) = await WorkflowReference.ResolveAsync(session.Api, parse.GetValue(workflow)!, cancellationToken);
            var versions = await session.Api.ListWorkflowVersionsAsync(id, cancellationToken);
            var wanted = parse.GetValue(version) ?? view?.LatestVersion ?? (versions.Count > 0 ? versions.Max(v => v.Version) : 1);
            var shown = await session.Api.GetWorkflowVersionAsync(id, wanted, cancellationToken);
            if (session.Json)
            {
                JsonOutput.Write(session.Out, shown, HarnessJsonContext.Default.WorkflowVersionView);
                return 0;
            }
            Write(session.Out, shown, versions);
            return 0;
        });
        return command;
    }

    private static void Write(TextWriter output, WorkflowVersionView shown, IReadOnlyList<WorkflowVersionView> versions)
    {
        output.WriteLine($"{shown.Name} v{shown.Version} (workflow_id {shown.WorkflowId})");
        output.WriteLine($"  pushed {Formatting.Time(shown.CreatedAt)}{(shown.CreatedBy is null ? "" : $" by {shown.CreatedBy}")}");
        if (shown.Definition.Description is { } description)
        {
            output.WriteLine($"  {description}");
        }
        if (shown.Definition.Defaults is { } d)
        {
            output.WriteLine($"  defaults: step_timeout_ms={Number(d.StepTimeoutMs)} upload_timeout_ms={Number(d.UploadTimeoutMs)} retries={Number(d.Retries)}");
        }
        output.WriteLine();
        var table = new TextTable("#", "ID", "TYPE", "PARAMS", "TIMEOUT_MS", "RETRIES", "ON_ERROR");
        var steps = shown.Definition.Steps ?? [];
        for (var i = 0; i < steps.Count; i++)
        {
            var s = steps[i];
            table.Add(i.ToString(CultureInfo.InvariantCulture), s.Id, s.Type, Params(s.Params), Number(s.TimeoutMs), Number(s.Retries), s.OnError ?? "");
        }
        table.WriteTo(output);
        if (versions.Count > 0)
        {
            output.WriteLine();
            output.WriteLine($"Versions: {string.Join(", ", versions.OrderBy(v => v.Version).Select(v => $"v{v.Version}"))}");
        }
    }

    private static string Number(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static string Params(IReadOnlyDictionary<string, JsonElement>? parameters) =>
        parameters is null or { Count: 0 } ? ""
            : Formatting.Truncate(string.Join(" ", parameters.Select(p => $"{p.Key}={(p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText())}")), 60);
}
