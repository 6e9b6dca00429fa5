using Harness.Cli.Operator;
using Harness.Client;
using Harness.Contracts.Jobs;

namespace Harness.Cli.Commands.Jobs;

/// <summary>
/// Streams a job's output to the terminal (stdout lines to stdout, stderr and Harness's own lines to stderr),
/// resuming after a dropped connection, until the job ends; then gives the exit code the CLI should end with.
/// </summary>
internal sealed class JobFollower(CliContext context, HarnessApiClient api)
{
    public const int TimedOutExit = 124;
    public const int CanceledExit = 130;
    public const int OomExit = 137;

    public async Task<JobDetail> FollowAsync(Guid jobId, CancellationToken cancellationToken)
    {
        long? last = null;
        while (true)
        {
            try
            {
                await foreach (var line in api.ReadJobLogsAsync(jobId, follow: true, last, cancellationToken))
                {
                    last = line.Seq;
                    var writer = line.Stream == JobLogStreams.Stdout ? context.Out : context.Error;
                    await writer.WriteLineAsync(line.Text);
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken); // the stream dropped: resume after the last line
                continue;
            }
            var job = await api.GetJobAsync(jobId, cancellationToken);
            if (JobStatusNames.IsTerminal(job.Status))
            {
                // Lines that arrived between the stream's end and the status read.
                await foreach (var line in api.ReadJobLogsAsync(jobId, follow: false, last, cancellationToken))
                {
                    var writer = line.Stream == JobLogStreams.Stdout ? context.Out : context.Error;
                    await writer.WriteLineAsync(line.Text);
                }
                return job;
            }
        }
    }

    /// <summary>The job's own exit code when it has one; 124 timed out, 130 canceled, 137 out of memory, else 1.</summary>
    public static int ExitCode(JobDetail job) => job.Status switch
    {
        JobStatusNames.Succeeded => 0,
        JobStatusNames.TimedOut => TimedOutExit,
        JobStatusNames.Canceled => CanceledExit,
        _ when job.Reason == "oom_killed" => OomExit,
        _ when job.ExitCode is { } code and > 0 and < 256 => code,
        _ => 1,
    };

    public static string Summary(JobDetail job)
    {
        var took = job.StartedAt is { } s && job.FinishedAt is { } f ? $" in {Formatting.Duration(f - s)}" : "";
        var exit = job.ExitCode is { } c ? $", exit code {c}" : "";
        var message = job.LastErrorMessage is { Length: > 0 } m ? $": {m}" : "";
        return $"job {job.Id} {job.Status}{took}{exit}{message}";
    }
}
