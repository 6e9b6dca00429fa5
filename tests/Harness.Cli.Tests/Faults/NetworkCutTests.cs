using System.Diagnostics;
using Harness.Cli.Tests.EndToEnd;
using Harness.Contracts.Runs;
using Harness.Testing;
using Xunit.Abstractions;

namespace Harness.Cli.Tests.Faults;

/// <summary>
/// Issue 7: a 60 s cut between agent and server, through a loopback proxy the test controls. The
/// lease is longer than the cut (120 s), which is the contract: a partition shorter than the lease
/// loses nothing; the agent keeps working and buffers its reports in its outbox.
/// </summary>
public sealed class NetworkCutTests(ITestOutputHelper output)
{
    private const int Devices = 40;
    private static readonly TimeSpan Cut = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AgentCutFromServerFor60s_NothingLost_RunCompletes_NoStuckStates()
    {
        var clock = Stopwatch.StartNew();
        var serverPort = HarnessProcess.FreePort();
        await using var proxy = new LoopbackProxy(serverPort);
        await using var farm = await Farm.StartAsync(Devices, ["--slow", "250ms"], serverPort: serverPort,
            server: new() { ["LOST_AGENT_TIMEOUT_SEC"] = "120" },
            agent: new() { ["HARNESS_SERVER_URL"] = proxy.Url });
        var workflow = await farm.PushAsync(Farm.Capture("capture-cut"));
        var runId = await farm.RunAsync(workflow, new RunTarget(All: true), concurrency: 8, subject: "cut");
        await farm.WaitUntilAsync(async () => (await farm.GetRunAsync(runId)).Run.Counts.Succeeded >= 5, TimeSpan.FromSeconds(180), "5 devices succeeded");

        proxy.Cut();
        var before = await farm.GetRunAsync(runId);
        await Task.Delay(Cut);
        var during = await farm.GetRunAsync(runId);
        // The server heard nothing during the cut; the agent's reports waited in its outbox.
        Assert.True(during.Run.Counts.Succeeded <= before.Run.Counts.Succeeded + 8, "reports should not have crossed the cut");
        Assert.True(proxy.Refused > 0, "the agent should have tried, and been refused, during the cut");
        proxy.Restore();

        var run = await farm.WaitForEndAsync(runId, TimeSpan.FromSeconds(300));
        FaultChecks.NoStuckStatesAndEveryResultWhole(run);
        await FaultChecks.OutboxDrainedWithNoDeadLettersAsync(farm);
        output.WriteLine($"cut: {Devices} tasks, {before.Run.Counts.Succeeded} succeeded before a {Cut.TotalSeconds:F0} s cut, {proxy.Refused} connections refused during it, " +
            $"{run.Run.Counts.Succeeded} succeeded in the end; test {clock.Elapsed.TotalSeconds:F0} s");
        Assert.Equal(Devices, run.Run.Counts.Succeeded);
    }
}
