using Harness.DeviceSim.Faults;
using Harness.Runtimes.Devices.Simulator;

namespace Harness.Runtimes.Devices.Tests.DeviceSim;

public sealed class FaultPlanTests
{
    [Fact]
    public void Counts_TakeDifferentDevicesFromTheEnd()
    {
        var faults = new FaultPlan { Offline = "2", Unresponsive = "1", Failing = "1" }.Resolve(10, out var errors);

        Assert.Empty(errors);
        Assert.True(faults["SIM-0010"].Offline && faults["SIM-0009"].Offline);
        Assert.True(faults["SIM-0008"].Unresponsive);
        Assert.True(faults["SIM-0007"].Failing);
        Assert.Equal(4, faults.Count);
    }

    [Fact]
    public void SetsAndSlow_Combine()
    {
        var faults = new FaultPlan { Crashing = "SIM-0001,SIM-0003", Slow = "1s@first:2", CrashAfter = 3, CrashDowntime = TimeSpan.FromSeconds(4) }.Resolve(5, out var errors);

        Assert.Empty(errors);
        Assert.Equal(new DeviceFaults { CrashAfterCommands = 3, CrashDowntime = TimeSpan.FromSeconds(4), Latency = TimeSpan.FromSeconds(1) }, faults["SIM-0001"]);
        Assert.Equal(TimeSpan.FromSeconds(1), faults["SIM-0002"].Latency);
        Assert.Equal(3, faults["SIM-0003"].CrashAfterCommands);
        Assert.False(faults.ContainsKey("SIM-0004"));
    }

    [Fact]
    public void Slow_WithoutASet_SlowsEveryDevice()
    {
        var faults = new FaultPlan { Slow = "200ms" }.Resolve(3, out _);

        Assert.All(faults.Values, f => Assert.Equal(TimeSpan.FromMilliseconds(200), f.Latency));
        Assert.Equal(3, faults.Count);
    }

    [Fact]
    public void BadValues_AreAllReported()
    {
        new FaultPlan { Offline = "SIM-0042", Failing = "many", Slow = "fast", Unresponsive = "9" }.Resolve(5, out var errors);

        Assert.Contains(errors, e => e.StartsWith("--offline:", StringComparison.Ordinal) && e.Contains("SIM-0042", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("--failing:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("--slow:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("--unresponsive:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("200ms", 200)]
    [InlineData("2s", 2000)]
    [InlineData("1.5s", 1500)]
    [InlineData("1m", 60000)]
    [InlineData("75", 75)]
    public void Durations_ParseWhatPeopleType(string text, int milliseconds)
    {
        Assert.True(Durations.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }
}
