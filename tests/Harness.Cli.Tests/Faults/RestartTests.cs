using System.Diagnostics;
using Harness.Cli.Tests.EndToEnd;
using Harness.Contracts.Runs;
using Harness.Testing;
using Xunit.Abstractions;

namespace Harness.Cli.Tests.Faults;

/// <summary>
/// Issue 7: the server restarted, then PostgreSQL restarted (crash-stopped), both mid-run. The
/// database is on a cluster of this test's own, so stopping it disturbs no other test.
/// </summary>
public sealed class RestartTests(ITestOutputHelper output)
{
    private const int Devices = 40;
    private const int Concurrency = 8;

    [Fact]
    public async Task ServerAndPostgresRestartedMidRun_NothingLost_RunCompletes_NoStuckStates()
    {
        var clock = Stopwatch.StartNew();
        await using var postgres = await PrivatePostgres.StartAsync();
        await using var farm = await Farm.StartAsync(Devices, ["--slow", "250ms"],
            postgresAdmin: $"Host=127.0.0.1;Port={postgres.Port};Username=postgres;Database=postgres");
        var workflow = await farm.PushAsync(Farm.Capture("capture-restarts"));
        var runId = await farm.RunAsync(workflow, new RunTarget(All: true), concurrency: Concurrency, subject: "restarts");
        await farm.WaitUntilAsync(async () => (await farm.GetRunAsync(runId)).Run.Counts.Succeeded >= 5, TimeSpan.FromSeconds(180), "5 devices succeeded");

        // Fault 1: the server goes away and comes back (SIGTERM, then a new process on the same port and database).
        farm.Server.Signal(HarnessProcess.SigTerm);
        Assert.Equal(0, await farm.Server.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var stopped = farm.Server;
        await farm.StartServerAsync();
        await stopped.DisposeAsync();
        var afterServer = (await farm.GetRunAsync(runId)).Run.Counts.Succeeded;
        await farm.WaitUntilAsync(async () => (await farm.GetRunAsync(runId)).Run.Counts.Succeeded >= afterServer + 5, TimeSpan.FromSeconds(180),
            "5 more devices succeeded after the server restart");

        // Fault 2: PostgreSQL crashes (immediate stop: no checkpoint, every connection cut) and is back 5 s later.
        await postgres.StopServerAsync("immediate");
        await Task.Delay(TimeSpan.FromSeconds(5));
        await postgres.StartServerAsync();

        var run = await farm.WaitForEndAsync(runId, TimeSpan.FromSeconds(300));
        FaultChecks.NoStuckStatesAndEveryResultWhole(run);
        await FaultChecks.OutboxDrainedWithNoDeadLettersAsync(farm);
        var failed = run.Devices.Where(d => d.Status != DeviceRunStatus.Succeeded).ToList();
        output.WriteLine($"restarts: {Devices} tasks, {run.Run.Counts.Succeeded} succeeded after a server restart and a PostgreSQL crash-restart; test {clock.Elapsed.TotalSeconds:F0} s"
            + string.Concat(failed.Select(d => $"; {d.DeviceId} {d.Status} ({d.FailureReason})")));
        // Nothing lost: a task that did not succeed ended with its reason recorded. Only the tasks in flight when
        // PostgreSQL crashed (at most the run's concurrency) may end otherwise. With durable commits every run
        // seen so far had all 40 succeed (docs/reliability.md).
        Assert.All(failed, d => Assert.False(string.IsNullOrEmpty(d.FailureReason), $"{d.DeviceId} is {d.Status} with no reason"));
        Assert.InRange(run.Run.Counts.Succeeded, Devices - Concurrency, Devices);
    }
}
