using System.CommandLine;
using Harness.Cli.Operator;
using Harness.Contracts;

namespace Harness.Cli.Commands.Jobs;

/// <summary><c>harness jobs show ID</c>.</summary>
internal static class ShowCommand
{
    public static Command Create(CliContext context)
    {
        var id = Parsers.IdArgument("job-id", "The job's id.");
        var command = new Command("show", "Show a job: status, reason, exit code, timings, its request (secret names only) and artifacts.");
        command.Arguments.Add(id);
        var api = ApiOptions.AddTo(command);
        OperatorAction.Set(command, context, api, async (session, parse, cancellationToken) =>
        {
            var job = await session.Api.GetJobAsync(parse.GetValue(id), cancellationToken);
            if (session.Json)
            {
                JsonOutput.Write(session.Out, job, HarnessJsonContext.Default.JobDetail);
                return 0;
            }
            var o = session.Out;
            await o.WriteLineAsync($"Job {job.Id} ({job.Type}): {job.Status}{(job.Reason is { } r ? $" ({r})" : "")}{(job.ExitCode is { } c ? $", exit code {c}" : "")}");
            if (job.LastErrorMessage is { } message)
            {
                await o.WriteLineAsync($"  {message}");
            }
            await o.WriteLineAsync($"  created {Formatting.Time(job.CreatedAt)} by {job.CreatedBy}; started {Formatting.Time(job.StartedAt)}; finished {Formatting.Time(job.FinishedAt)}");
            await o.WriteLineAsync($"  agent {job.AgentId?.ToString() ?? "-"}, backend {job.Backend ?? "-"}, workspace {job.WorkspaceId ?? "-"}");
            if (job.Spec is { } spec)
            {
                await o.WriteLineAsync($"  image {spec.Image}; command {string.Join(' ', spec.Command)}");
                await o.WriteLineAsync($"  network {spec.Network}, timeout {spec.TimeoutS}s, cpu {spec.Cpu}, memory {spec.MemoryMb} MiB, pids {spec.Pids}{(spec.SshAgent ? ", ssh agent" : "")}");
                if (spec.SecretNames.Count > 0)
                {
                    await o.WriteLineAsync($"  secrets {string.Join(", ", spec.SecretNames)}");
                }
            }
            foreach (var artifact in job.Artifacts)
            {
                await o.WriteLineAsync($"  artifact {artifact.Name} ({artifact.Size} bytes) {artifact.Url}");
            }
            return 0;
        });
        return command;
    }
}
