using System.CommandLine;
using System.Globalization;
using Harness.Cli.Operator;
using Harness.Contracts;
using Harness.Contracts.Jobs;

namespace Harness.Cli.Commands.Jobs;

/// <summary>
/// <c>harness jobs run --image IMG [--workspace W] [--env K=V] [--secret K=V] -- CMD …</c>: queues a sandbox job,
/// streams its output and ends with its exit code. Ctrl-C cancels the job.
/// </summary>
internal static class RunCommand
{
    public static Command Create(CliContext context)
    {
        var image = new Option<string>("--image") { Description = "Image to run (Docker image, or bubblewrap root filesystem name).", Required = true, HelpName = "image" };
        var workspace = new Option<string?>("--workspace") { Description = "Mount this workspace (name or id) read-write at /workspace; the job runs on its agent.", HelpName = "name|id" };
        var env = KeyValues.CreateOption("--env", "Environment variable for the command (repeatable).");
        var secret = KeyValues.CreateOption("--secret", "Secret environment variable: masked as *** in every log line, never stored in clear or shown (repeatable).");
        var secretEnv = new Option<string[]>("--secret-env")
        {
            Description = "Pass this variable of your environment as a secret, so its value is not on the command line (repeatable).",
            HelpName = "NAME",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var network = new Option<string>("--network") { Description = "none (default): no network at all; egress: outbound access.", DefaultValueFactory = _ => JobNetworks.None };
        network.AcceptOnlyFromAmong(JobNetworks.None, JobNetworks.Egress);
        var timeout = new Option<int?>("--timeout") { Description = "Hard timeout in seconds (default 3600).", HelpName = "seconds" };
        var cpu = new Option<double?>("--cpu") { Description = "CPU cores (default 1).", HelpName = "cores" };
        var memory = new Option<int?>("--memory") { Description = "Memory limit in MiB (default 512); exceeding it kills the job.", HelpName = "MiB" };
        var pids = new Option<int?>("--pids") { Description = "Most processes at once (default 256).", HelpName = "n" };
        var sshAgent = new Option<bool>("--ssh-agent") { Description = "Forward the agent host's SSH agent socket (no key file enters the sandbox)." };
        var artifacts = new Option<string[]>("--artifact") { Description = "Collect files matching this glob (relative to /workspace) as artifacts (repeatable).", Arity = ArgumentArity.ZeroOrMore, HelpName = "glob" };
        var agent = Parsers.IdOption("--agent", "Run on this agent (id).");
        var detach = new Option<bool>("--detach", "-d") { Description = "Print the job's id and return at once, without streaming its output." };
        var commandLine = new Argument<string[]>("command") { Description = "The program and its arguments, after --.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("run", "Run a command in a sandbox: no network, non-root, read-only root, no capabilities, limits and a hard timeout. Exit code: the command's (124 timed out, 130 canceled, 137 out of memory).");
        foreach (var option in new Option[] { image, workspace, env, secret, secretEnv, network, timeout, cpu, memory, pids, sshAgent, artifacts, agent, detach })
        {
            command.Options.Add(option);
        }
        command.Arguments.Add(commandLine);
        var api = ApiOptions.AddTo(command);
        OperatorAction.Set(command, context, api, async (session, parse, cancellationToken) =>
        {
            var secrets = KeyValues.ToDictionary(parse.GetValue(secret)) ?? [];
            foreach (var name in parse.GetValue(secretEnv) ?? [])
            {
                secrets[name] = context.GetEnvironmentVariable(name)
                    ?? throw new CliException($"--secret-env {name}: the variable is not set in this environment.");
            }
            var request = new CreateJobRequest(
                JobTypeNames.Sandbox, parse.GetValue(image), parse.GetValue(commandLine), parse.GetValue(workspace),
                KeyValues.ToDictionary(parse.GetValue(env)), secrets.Count == 0 ? null : secrets,
                parse.GetValue(network), parse.GetValue(timeout), parse.GetValue(cpu), parse.GetValue(memory), parse.GetValue(pids),
                parse.GetValue(sshAgent) ? true : null, parse.GetValue(artifacts) is { Length: > 0 } a ? a : null, parse.GetValue(agent));
            var job = await session.Api.CreateJobAsync(request, cancellationToken);
            if (parse.GetValue(detach))
            {
                if (session.Json)
                {
                    JsonOutput.Write(session.Out, job, HarnessJsonContext.Default.JobDetail);
                }
                else
                {
                    await session.Out.WriteLineAsync(job.Id.ToString());
                }
                return 0;
            }
            await context.Error.WriteLineAsync($"harness: job {job.Id} queued ({request.Image}); streaming its output. Ctrl-C cancels it.");
            try
            {
                job = await new JobFollower(context, session.Api).FollowAsync(job.Id, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                var canceled = await session.Api.CancelJobAsync(job.Id, grace.Token);
                await context.Error.WriteLineAsync($"harness: cancel requested for job {canceled.Id} (now {canceled.Status}).");
                return JobFollower.CanceledExit;
            }
            if (session.Json)
            {
                JsonOutput.Write(session.Out, job, HarnessJsonContext.Default.JobDetail);
            }
            await context.Error.WriteLineAsync("harness: " + JobFollower.Summary(job));
            foreach (var artifact in job.Artifacts)
            {
                await context.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  artifact {artifact.Name} ({artifact.Size} bytes): {artifact.Url}"));
            }
            return JobFollower.ExitCode(job);
        });
        return command;
    }
}
