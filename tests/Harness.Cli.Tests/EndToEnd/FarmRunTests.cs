using Harness.Contracts.Runs;

namespace Harness.Cli.Tests.EndToEnd;

/// <summary>
/// 100 simulated devices, 5 offline and 5 unresponsive, driven by a real agent through a real
/// server: the counts come out exact, every success leaves its screenshot at the documented path,
/// and the run's own record shows the scheduling rules held.
/// </summary>
public sealed class FarmRunTests : IAsyncLifetime
{
    private const int MaxPerNode = 8;
    private Farm _farm = null!;

    public async Task InitializeAsync() => _farm = await Farm.StartAsync(100,
        ["--offline", "5", "--unresponsive", "5", "--slow", "40ms"],
        agent: new() { ["MAX_CONCURRENCY_PER_NODE"] = MaxPerNode.ToString() });

    public async Task DisposeAsync() => await _farm.DisposeAsync();

    [Fact]
    public async Task HundredDevices_WithOfflineAndUnresponsiveOnes_EndWithExactCounts_AndAScreenshotPerSuccess()
    {
        var offline = _farm.Faults["offline"];
        var unresponsive = _farm.Faults["unresponsive"];
        Assert.Equal((5, 5), (offline.Count, unresponsive.Count));
        var workflow = await _farm.PushAsync(Farm.Capture("capture-100"));

        var runId = await _farm.RunAsync(workflow, new RunTarget(All: true), concurrency: 20, subject: "e2e-100");
        var run = await _farm.WaitForEndAsync(runId, TimeSpan.FromSeconds(180));

        Assert.Equal(RunStatus.Failed, run.Run.Status); // the unresponsive devices failed; nothing else did
        Assert.Equal((100, 5, 5, 90), (run.Run.Counts.Total, run.Run.Counts.SkippedOffline, run.Run.Counts.Failed, run.Run.Counts.Succeeded));
        Assert.Equal(offline.Order(), run.Devices.Where(d => d.Status == DeviceRunStatus.SkippedOffline).Select(d => d.DeviceId).Order());
        var failed = run.Devices.Where(d => d.Status == DeviceRunStatus.Failed).ToList();
        Assert.Equal(unresponsive.Order(), failed.Select(d => d.DeviceId).Order());
        Assert.All(failed, d =>
        {
            Assert.Equal(FailureReasons.DeviceUnresponsive, d.FailureReason);
            // The 1.5 s preflight budget and then the 2 s grace wait passed before it was failed.
            Assert.True(d.FinishedAt - d.StartedAt >= TimeSpan.FromSeconds(3.4), $"{d.DeviceId} failed after {d.FinishedAt - d.StartedAt}");
        });
        foreach (var device in run.Devices.Where(d => d.Status == DeviceRunStatus.Succeeded))
        {
            Assert.Equal(6, device.Steps.Count(s => s.Status == "succeeded"));
            var shot = Assert.Single(device.Artifacts);
            Assert.Matches($"^e2e-100/{Farm.Node}/{device.DeviceId}/{runId}/[0-9]{{8}}T[0-9]{{9}}Z\\.png$", shot.Path);
            var bytes = await File.ReadAllBytesAsync(Path.Combine(_farm.ArtifactsDir, shot.Path));
            Assert.Equal(shot.Size, bytes.Length);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
            Assert.Equal(shot.Sha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
        }
    }

    [Fact]
    public async Task ConcurrentRuns_NeverRunADeviceTwiceAtOnce_NeverExceedTheNodeLimit_AndConcurrencyOneIsSequential()
    {
        var workflow = await _farm.PushAsync(Farm.Capture("capture-rules"));
        var wide = await _farm.RunAsync(workflow, new RunTarget(IndexRange: "1-40"), concurrency: 20);
        var overlapping = await _farm.RunAsync(workflow, new RunTarget(IndexRange: "21-60"), concurrency: 20);
        var sequential = await _farm.RunAsync(workflow, new RunTarget(IndexRange: "61-70"), concurrency: 1);

        var runs = new List<RunDetail>();
        foreach (var id in new[] { wide, overlapping, sequential })
        {
            runs.Add(await _farm.WaitForEndAsync(id, TimeSpan.FromSeconds(180)));
        }

        var intervals = runs.SelectMany(r => r.Devices.Where(d => d.StartedAt is not null && d.FinishedAt is not null)
            .Select(d => (Run: r.Run.RunId, d.DeviceId, Start: d.StartedAt!.Value, End: d.FinishedAt!.Value))).ToList();
        Assert.Equal(90, intervals.Count); // 40 + 40 + 10 device tasks, all of which ran
        static bool Overlap((Guid Run, string DeviceId, DateTimeOffset Start, DateTimeOffset End) a, (Guid Run, string DeviceId, DateTimeOffset Start, DateTimeOffset End) b) =>
            a.Start < b.End && b.Start < a.End;

        foreach (var device in intervals.GroupBy(i => i.DeviceId))
        {
            var list = device.ToList();
            for (var i = 0; i < list.Count; i++)
            {
                for (var j = i + 1; j < list.Count; j++)
                {
                    Assert.False(Overlap(list[i], list[j]), $"{device.Key} ran two tasks at once");
                }
            }
        }
        var events = intervals.SelectMany(i => new[] { (At: i.Start, Delta: 1), (At: i.End, Delta: -1) })
            .OrderBy(e => e.At).ThenBy(e => e.Delta).ToList();
        var running = 0;
        var peak = 0;
        foreach (var e in events)
        {
            running += e.Delta;
            peak = Math.Max(peak, running);
        }
        Assert.InRange(peak, 2, MaxPerNode);
        var ordered = intervals.Where(i => i.Run == sequential).OrderBy(i => i.Start).ToList();
        for (var i = 1; i < ordered.Count; i++)
        {
            Assert.True(ordered[i - 1].End <= ordered[i].Start, $"concurrency 1 overlapped: {ordered[i - 1].DeviceId} and {ordered[i].DeviceId}");
        }
        Assert.All(runs, r => Assert.Equal(RunStatus.Succeeded, r.Run.Status));
    }
}
