using Harness.Client;
using Harness.Contracts.Runs;

namespace Harness.Cli.Operator.Progress;

/// <summary>
/// <c>--follow</c>: polls the run every <see cref="CliContext.PollInterval"/> until it ends. Exit 0 when it
/// succeeded, 1 when it failed or was cancelled, 130 when Ctrl-C stopped the following (the run goes on).
/// </summary>
internal sealed class RunFollower(CliContext context, HarnessApiClient api)
{
    public const int Interrupted = 130;
    /// <summary>A server restart should not end a long watch; this many failed polls in a row does.</summary>
    public const int MaxConsecutiveErrors = 30;

    public async Task<int> FollowAsync(Guid runId, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var printer = new RunProgressPrinter(context.Out, context.OutputIsTerminal, context.TerminalWidth());
        var errors = 0;
        using (context.OnInterrupt(stop.Cancel))
        {
            try
            {
                while (true)
                {
                    RunDetail detail;
                    try
                    {
                        detail = await api.GetRunAsync(runId, stop.Token);
                        errors = 0;
                    }
                    catch (HttpRequestException e) when (!stop.IsCancellationRequested && ++errors < MaxConsecutiveErrors)
                    {
                        if (errors == 1)
                        {
                            await context.Error.WriteLineAsync($"harness: lost the server ({e.Message}); still trying…");
                        }
                        await context.Delay(context.PollInterval, stop.Token);
                        continue;
                    }
                    var now = context.Time.GetUtcNow();
                    printer.Render(detail, now);
                    if (RunStatus.IsTerminal(detail.Run.Status))
                    {
                        printer.Finish(detail, now);
                        return detail.Run.Status == RunStatus.Succeeded ? 0 : OperatorAction.Failed;
                    }
                    await context.Delay(context.PollInterval, stop.Token);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                await context.Out.WriteLineAsync();
                await context.Out.WriteLineAsync($"Stopped following; the run goes on. Resume with: harness runs show {runId} --follow");
                return Interrupted;
            }
        }
    }
}
