namespace Harness.Server.Features.Jobs;

/// <summary>Every few seconds: requeue claims whose agent went silent, fail started jobs of lost agents, time out overruns.</summary>
public sealed partial class JobSweeper(IServiceScopeFactory scopes, TimeProvider time, ILogger<JobSweeper> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicLoop.RunAsync(Interval, time, SweepAsync, e => LogPassFailed(logger, e), stoppingToken);

    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<SandboxJobService>().SweepAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job sweep failed; retrying next interval")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
