using System.Diagnostics;
using Harness.Cli.Tests.EndToEnd;
using Harness.Contracts.Runs;
using Xunit.Abstractions;

namespace Harness.Cli.Tests.Faults;

/// <summary>Issue 7: an agent SIGKILLed mid-task loses no task, and its tasks are re-dispatched (or failed as node_lost) within 1.2× the lease.</summary>
public sealed class AgentSigkillTests(ITestOutputHelper output)
{
    private const int LeaseSec = 15;
    private const int Devices = 30;

    [Fact]
    public async Task AgentSigkilledMidTask_IsRedispatchedWithinLease_NothingLost()
    {
        var clock = Stopwatch.StartNew();
        await using var farm = await Farm.StartAsync(Devices, ["--slow", "300ms"],
            server: new() { ["LOST_AGENT_TIMEOUT_SEC"] = LeaseSec.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var workflow = await farm.PushAsync(Farm.Capture("capture-sigkill"));
        var runId = await farm.RunAsync(workflow, new RunTarget(All: true), concurrency: 10, subject: "sigkill");
        await farm.WaitUntilAsync(async () => (await farm.GetRunAsync(runId)).Run.Counts.Succeeded >= 5, TimeSpan.FromSeconds(180), "5 devices succeeded");

        farm.Agent.Signal(9); // SIGKILL: no goodbye, no lease given back, the outbox left as it was on disk
        var killedAt = Stopwatch.StartNew();
        await farm.Agent.WaitForExitAsync(TimeSpan.FromSeconds(10));
        var killed = farm.Agent;
        // With the agent dead, the server's view is exactly what was in flight at the kill.
        var atKill = await farm.GetRunAsync(runId);
        var inFlight = atKill.Devices.Where(d => DeviceRunStatus.IsActive(d.Status)).ToDictionary(d => d.DeviceId, d => d.Attempt);
        Assert.True(inFlight.Count > 0, "the kill should have caught tasks in flight");

        // Nobody speaks for the dead agent, so only its lapsed leases can free its tasks: each one is
        // re-queued for dispatch (never started) or failed as node_lost (started; device steps are not
        // idempotent, so the server does not run them twice). The agent restarts only afterwards: its
        // replayed outbox would otherwise renew the leases and hide what is measured here.
        TimeSpan? resolvedAfter = null;
        await farm.WaitUntilAsync(async () =>
        {
            var run = await farm.GetRunAsync(runId);
            var resolved = run.Devices.Where(d => inFlight.ContainsKey(d.DeviceId))
                .All(d => DeviceRunStatus.IsTerminal(d.Status) || d.Status == DeviceRunStatus.Queued || d.Attempt > inFlight[d.DeviceId]);
            if (resolved)
            {
                resolvedAfter = killedAt.Elapsed;
            }
            return resolved;
        }, TimeSpan.FromSeconds(LeaseSec * 6), "every task in flight at the kill was re-queued or ended");
        farm.StartAgent();
        var final = await farm.WaitForEndAsync(runId, TimeSpan.FromSeconds(240));
        await killed.DisposeAsync();

        FaultChecks.NoStuckStatesAndEveryResultWhole(final);
        await FaultChecks.OutboxDrainedWithNoDeadLettersAsync(farm);
        var dispatchedTwice = final.Devices.Count(d => d.Attempt > 1);
        var lost = final.Devices.Count(d => d.FailureReason == Contracts.Runs.FailureReasons.NodeLost);
        output.WriteLine($"sigkill: {Devices} tasks, {inFlight.Count} in flight at the kill, resolved {resolvedAfter!.Value.TotalSeconds:F1} s after it " +
            $"(lease {LeaseSec} s, limit {LeaseSec * 1.2:F0} s); dispatched twice {dispatchedTwice}, node_lost {lost}, succeeded {final.Run.Counts.Succeeded}; test {clock.Elapsed.TotalSeconds:F0} s");
        Assert.True(resolvedAfter <= TimeSpan.FromSeconds(LeaseSec * 1.2), $"re-dispatch took {resolvedAfter}, more than 1.2 × the {LeaseSec} s lease");
        Assert.True(dispatchedTwice <= inFlight.Count, $"{dispatchedTwice} tasks dispatched twice, but only {inFlight.Count} were in flight");
        // Only a task caught in flight may fail; every other one succeeds.
        Assert.True(lost <= inFlight.Count, $"{lost} tasks lost, but only {inFlight.Count} were in flight");
        Assert.Equal(Devices, final.Run.Counts.Succeeded + lost);
    }
}
