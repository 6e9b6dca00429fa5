using System.CommandLine;
using System.Text.Json;
using Harness.Cli.Operator;
using Harness.Contracts;

namespace Harness.Cli.Commands.Workflows;

/// <summary><c>harness workflows push FILE</c>: saves the file as the workflow's next version.</summary>
internal static class PushCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<string>("file") { Description = "The workflow JSON file (see examples/workflows/)." };
        var command = new Command("push", "Save a workflow file on the server; pushing the same name again makes the next version.");
        command.Arguments.Add(file);
        var api = ApiOptions.AddTo(command);
        OperatorAction.Set(command, context, api, async (session, parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            var json = await ReadAsync(path, Path.Combine(session.Context.CurrentDirectory, path), cancellationToken);
            var created = await session.Api.PushWorkflowJsonAsync(json, cancellationToken);
            if (session.Json)
            {
                JsonOutput.Write(session.Out, created, HarnessJsonContext.Default.WorkflowCreatedResponse);
            }
            else
            {
                await session.Out.WriteLineAsync($"Pushed {created.Name} v{created.Version} (workflow_id {created.WorkflowId})");
            }
            return 0;
        });
        return command;
    }

    /// <summary>Reads and checks the file is JSON, so a typo is reported with its line here rather than as a server 400.</summary>
    private static async Task<string> ReadAsync(string path, string fullPath, CancellationToken cancellationToken)
    {
        if (!File.Exists(fullPath))
        {
            throw new CliException($"{path}: no such file.");
        }
        var json = await File.ReadAllTextAsync(fullPath, cancellationToken);
        try
        {
            using var _ = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new CliException($"{path}: not valid JSON (line {e.LineNumber + 1}, position {e.BytePositionInLine + 1}).");
        }
        return json;
    }
}
