using Harness.Client;
using Harness.Contracts;
using Harness.Contracts.Runs;

namespace Harness.Cli.Operator.Progress;

/// <summary>
/// <c>--follow</c>: polls the run every <see cref="CliContext.PollInterval"/> until it ends. Exit 0 when it
/// succeeded, 1 when it failed or was cancelled, 130 when Ctrl-C stopped the following (the run goes on).
/// With <c>json</c> it watches quietly and prints only the final <see cref="RunDetail"/>, for scripts.
/// </summary>
internal sealed class RunFollower(CliContext context, HarnessApiClient api, bool json = false)
{
    public const int Interrupted = 130;
    /// <summary>A server restart should not end a long watch; this many failed polls in a row does.</summary>
    public const int MaxConsecutiveErrors = 30;

    public async Task<int> FollowAsync(Guid runId, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var printer = new RunProgressPrinter(context.Out, context.OutputIsTerminal, context.TerminalSize());
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
                    var ended = RunStatus.IsTerminal(detail.Run.Status);
                    if (json && ended)
                    {
                        JsonOutput.Write(context.Out, detail, HarnessJsonContext.Default.RunDetail);
                    }
                    else if (!json)
                    {
                        printer.Render(detail, now);
                        if (ended)
                        {
                            printer.Finish(detail, now);
                        }
                    }
                    if (ended)
                    {
                        return detail.Run.Status == RunStatus.Succeeded ? 0 : OperatorAction.Failed;
                    }
                    await context.Delay(context.PollInterval, stop.Token);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Under --json, stdout stays parseable: the hint goes to stderr.
                var hint = json ? context.Error : context.Out;
                await hint.WriteLineAsync();
                await hint.WriteLineAsync($"Stopped following; the run goes on. Resume with: harness runs show {runId} --follow");
                return Interrupted;
            }
        }
    }
}
