using System.CommandLine;
using System.Globalization;
using Harness.Cli.Operator;
using Harness.Cli.Operator.Progress;
using Harness.Contracts;
using Harness.Contracts.Runs;

namespace Harness.Cli.Commands.Runs;

/// <summary><c>harness runs create --workflow NAME|ID | --playbook ID [target] [--var k=v]… [--follow]</c>.</summary>
internal static class CreateCommand
{
    public static Command Create(CliContext context)
    {
        var workflow = new Option<string?>("--workflow") { Description = "Workflow name or workflow_id.", HelpName = "name|id" };
        var version = Parsers.IntOption("--version", "Workflow version (default: the latest).");
        var playbook = Parsers.IdOption("--playbook", "Playbook id, instead of --workflow.");
        var concurrency = Parsers.IntOption("--concurrency", "At most this many devices at once per node (1 = strictly one after another).");
        var vars = KeyValues.CreateOption("--var", "A workflow variable, {{vars.key}} in steps (repeatable).");
        var subject = new Option<string?>("--subject") { Description = "Subject key (a content or app-build id) used in artifact paths.", HelpName = "key" };
        var seed = Parsers.LongOption("--seed", "Random seed for a playbook run (default: chosen and recorded by the server).");
        var follow = new Option<bool>("--follow", "-f") { Description = "Watch the run until it ends; exit 0 if it succeeded, 1 otherwise (with --json: only the final run is printed)." };

        var command = new Command("create", "Start a run of a workflow (or playbook) on a set of devices.");
        command.Options.Add(workflow);
        command.Options.Add(version);
        command.Options.Add(playbook);
        var target = TargetOptions.AddTo(command);
        command.Options.Add(concurrency);
        command.Options.Add(vars);
        command.Options.Add(subject);
        command.Options.Add(seed);
        command.Options.Add(follow);
        var api = ApiOptions.AddTo(command);

        Ranges.AtLeast(version, 1);
        Ranges.AtLeast(concurrency, 1);
        command.Validators.Add(r =>
        {
            var hasWorkflow = r.GetResult(workflow) is not null;
            var hasPlaybook = r.GetResult(playbook) is not null;
            if (hasWorkflow == hasPlaybook)
            {
                r.AddError("give either --workflow NAME|ID or --playbook ID.");
            }
            if (hasPlaybook && r.GetResult(version) is not null)
            {
                r.AddError("--version applies to --workflow only.");
            }
        });

        OperatorAction.Set(command, context, api, async (session, parse, cancellationToken) =>
        {
            Guid? workflowId = null;
            string? workflowName = null;
            if (parse.GetValue(workflow) is { } name)
            {
                var (id, view) = await WorkflowReference.ResolveAsync(session.Api, name, cancellationToken);
                (workflowId, workflowName) = (id, view?.Name);
            }
            var request = new CreateRunRequest(
                WorkflowId: workflowId,
                PlaybookId: parse.GetValue(playbook),
                Version: parse.GetValue(version),
                Target: target.ToTarget(parse),
                Concurrency: parse.GetValue(concurrency),
                Vars: KeyValues.ToDictionary(parse.GetValue(vars)),
                Subject: parse.GetValue(subject),
                Seed: parse.GetValue(seed));
            var created = await session.Api.CreateRunAsync(request, cancellationToken);
            var following = parse.GetValue(follow);
            if (!session.Json)
            {
                await session.Out.WriteLineAsync(Describe(created, workflowName));
            }
            else if (!following)
            {
                JsonOutput.Write(session.Out, created, HarnessJsonContext.Default.RunCreatedResponse);
            }
            if (!following)
            {
                if (!session.Json)
                {
                    await session.Out.WriteLineAsync($"Watch it: harness runs show {created.RunId} --follow");
                }
                return 0;
            }
            // --json --follow prints one document, the run as it ended, so scripts can parse stdout.
            return await new RunFollower(session.Context, session.Api, session.Json).FollowAsync(created.RunId, cancellationToken);
        });
        return command;
    }

    public static string Describe(RunCreatedResponse created, string? workflowName = null)
    {
        var what = created.PlaybookId is { } p ? $"playbook {p} (seed {created.Seed?.ToString(CultureInfo.InvariantCulture) ?? "-"})"
            : $"{workflowName ?? $"workflow {created.WorkflowId}"} v{created.Version?.ToString(CultureInfo.InvariantCulture) ?? "?"}";
        return $"Created run {created.RunId} of {what} on {created.Counts.Total.ToString(CultureInfo.InvariantCulture)} devices: {RunProgressView.NonZeroCounts(created.Counts)}";
    }
}
