using Harness.Contracts.Runs;
using Harness.Testing;

namespace Harness.Cli.Tests.EndToEnd;

/// <summary>Nothing is lost when the agent is killed mid-run or the server goes away for 30 s.</summary>
public sealed class FarmFaultTests
{
    [Fact]
    public async Task AgentKilledMidRun_AndRestarted_EveryTaskEnds_AndNoOutboxEventIsLost()
    {
        await using var farm = await Farm.StartAsync(100, ["--offline", "5", "--unresponsive", "5", "--slow", "150ms"],
            server: new() { ["LOST_AGENT_TIMEOUT_SEC"] = "5" });
        var workflow = await farm.PushAsync(Farm.Capture("capture-kill"));
        var runId = await farm.RunAsync(workflow, new RunTarget(All: true), concurrency: 20, subject: "kill");
        // Tasks start in waves (20 at once, ending about together): kill while a wave is in flight, not in the gap
        // between two, when nothing may be leased.
        await farm.WaitUntilAsync(async () => (await farm.GetRunAsync(runId)).Run.Counts is var c
            && c.Succeeded >= 15 && c.Dispatched + c.Preflight + c.Running + c.Waiting >= 5, TimeSpan.FromSeconds(120), "15 devices succeeded, 5 in flight");

        farm.Agent.Signal(9); // SIGKILL: no goodbye, the outbox stays as it was on disk
        await farm.Agent.WaitForExitAsync(TimeSpan.FromSeconds(10));
        var killed = farm.Agent;
        farm.StartAgent();
        var run = await farm.WaitForEndAsync(runId, TimeSpan.FromSeconds(240));
        await killed.DisposeAsync();

        Assert.All(run.Devices, d => Assert.True(DeviceRunStatus.IsTerminal(d.Status), $"{d.DeviceId} is {d.Status}"));
        var lost = run.Devices.Count(d => d.FailureReason == FailureReasons.NodeLost);
        // A task the kill caught had started (its lease lapses: node_lost) or not yet, as far as the server
        // knew when the lease lapsed (queued again: a second attempt). Under load the restarted agent can
        // replay the dead process's "running" reports after that, so either outcome is right.
        var redispatched = run.Devices.Count(d => d.Attempt > 1);
        Assert.True(lost + redispatched > 0, $"the kill should have caught tasks in flight (node_lost {lost}, dispatched again {redispatched})");
        Assert.Equal(5, run.Run.Counts.SkippedOffline);
        Assert.Equal(100 - 5 - 5 - lost, run.Run.Counts.Succeeded);
        Assert.Equal(5, run.Devices.Count(d => d.FailureReason == FailureReasons.DeviceUnresponsive));
        // Every success reported by either agent process arrived whole: its steps and its screenshot.
        Assert.All(run.Devices.Where(d => d.Status == DeviceRunStatus.Succeeded), d =>
        {
            Assert.Equal(6, d.Steps.Count(s => s.Status == "succeeded"));
            Assert.Single(d.Artifacts);
        });
        await farm.WaitUntilAsync(() => Task.FromResult(PendingOutboxFiles(farm) == 0), TimeSpan.FromSeconds(30), "the outbox drained");
    }

    [Fact]
    public async Task ServerDownFor30sMidRun_TheAgentBuffers_AndTheRunCompletesCorrectly()
    {
        await using var farm = await Farm.StartAsync(60, ["--offline", "3", "--unresponsive", "3", "--slow", "100ms"]);
        var workflow = await farm.PushAsync(Farm.Capture("capture-outage"));
        var runId = await farm.RunAsync(workflow, new RunTarget(All: true), concurrency: 10, subject: "outage");
        await farm.WaitUntilAsync(async () => (await farm.GetRunAsync(runId)).Run.Counts.Succeeded >= 5, TimeSpan.FromSeconds(120), "5 devices succeeded");

        farm.Server.Signal(HarnessProcess.SigTerm);
        Assert.Equal(0, await farm.Server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var stopped = farm.Server;
        await Task.Delay(TimeSpan.FromSeconds(30));
        Assert.True(PendingOutboxFiles(farm) > 0, "with the server down, the agent's reports wait in its outbox");
        await farm.StartServerAsync();
        var run = await farm.WaitForEndAsync(runId, TimeSpan.FromSeconds(180));
        await stopped.DisposeAsync();

        Assert.Equal((60, 3, 3, 54), (run.Run.Counts.Total, run.Run.Counts.SkippedOffline, run.Run.Counts.Failed, run.Run.Counts.Succeeded));
        Assert.All(run.Devices.Where(d => d.Status == DeviceRunStatus.Failed), d => Assert.Equal(FailureReasons.DeviceUnresponsive, d.FailureReason));
        Assert.All(run.Devices.Where(d => d.Status == DeviceRunStatus.Succeeded), d => Assert.Single(d.Artifacts));
        Assert.Contains(farm.Agent.Lines, l => l.Contains("retrying", StringComparison.OrdinalIgnoreCase));
    }

    private static int PendingOutboxFiles(Farm farm)
    {
        // Pending reports and uploads; dead letters would be a loss, so they count too.
        var outbox = Path.Combine(farm.AgentStateDir, "outbox");
        return new[] { "events", "artifacts", "dead" }.Select(d => Path.Combine(outbox, d))
            .Where(Directory.Exists)
            .Sum(d => Directory.EnumerateFiles(d).Count(f => !f.EndsWith(".tmp", StringComparison.Ordinal)));
    }
}
