using Harness.Cli.Tests.EndToEnd;
using Harness.Contracts.Runs;

namespace Harness.Cli.Tests.Faults;

/// <summary>What every fault test checks once its run has ended: no stuck states, nothing lost.</summary>
internal static class FaultChecks
{
    /// <summary>The run ended, no device is left dispatched or running, and every success arrived whole.</summary>
    public static void NoStuckStatesAndEveryResultWhole(RunDetail run)
    {
        Assert.True(RunStatus.IsTerminal(run.Run.Status), $"run is {run.Run.Status}");
        Assert.All(run.Devices, d => Assert.True(DeviceRunStatus.IsTerminal(d.Status), $"{d.DeviceId} is {d.Status}"));
        Assert.Equal(0, run.Run.Counts.Queued + run.Run.Counts.Dispatched + run.Run.Counts.Preflight + run.Run.Counts.Running + run.Run.Counts.Waiting);
        // Each reported success has every step the agent sent and its screenshot: no callback or upload was dropped.
        Assert.All(run.Devices.Where(d => d.Status == DeviceRunStatus.Succeeded), d =>
        {
            Assert.Equal(6, d.Steps.Count(s => s.Status == "succeeded"));
            Assert.Single(d.Artifacts);
        });
    }

    /// <summary>Waits until the agent's outbox is empty, and asserts nothing went to dead letters (a dead letter is a lost event).</summary>
    public static async Task OutboxDrainedWithNoDeadLettersAsync(Farm farm)
    {
        await farm.WaitUntilAsync(() => Task.FromResult(Files(farm, "events") + Files(farm, "artifacts") == 0), TimeSpan.FromSeconds(60), "the outbox drained");
        Assert.Equal(0, Files(farm, "dead"));
    }

    private static int Files(Farm farm, string folder)
    {
        var path = Path.Combine(farm.AgentStateDir, "outbox", folder);
        return Directory.Exists(path) ? Directory.EnumerateFiles(path).Count(f => !f.EndsWith(".tmp", StringComparison.Ordinal)) : 0;
    }
}
