using Harness.Cli.Operator.Progress;
using Harness.Cli.Tests.Operator;
using Harness.Contracts.Runs;
using static Harness.Cli.Tests.Operator.RunData;

namespace Harness.Cli.Tests.Operator.Progress;

public sealed class RunProgressViewTests
{
    [Fact]
    public void CountsLine_NamesEveryStateInOrder_ZerosIncluded()
    {
        var counts = new RunCounts(Total: 55, Queued: 1, Dispatched: 2, Preflight: 3, Running: 4, Waiting: 5, Succeeded: 6, Failed: 7, TimedOut: 8, Cancelled: 9, SkippedOffline: 10);

        Assert.Equal(
            "queued 1  dispatched 2  preflight 3  running 4  waiting 5  succeeded 6  failed 7  timed_out 8  cancelled 9  skipped_offline 10",
            RunProgressView.CountsLine(counts));
        Assert.Contains("failed 0", RunProgressView.CountsLine(Counts([Device(1, DeviceRunStatus.Queued)])));
    }

    [Fact]
    public void ProgressBar_FillsByEndedDevices_AnyTerminalState()
    {
        var devices = Fleet(10, (1, "succeeded", null), (2, "failed", "x"), (3, "timed_out", null), (4, "cancelled", null), (5, "skipped_offline", null), (6, "running", null));

        var bar = RunProgressView.ProgressBar(Counts(devices), width: 10);

        Assert.Equal("[#####.....]  5/10  50%", bar);
    }

    [Fact]
    public void ProgressBar_NoDevices_IsFull()
    {
        Assert.Equal("[####]  0/0  100%", RunProgressView.ProgressBar(Counts([]), width: 4));
    }

    [Theory]
    [InlineData("queued", '.')]
    [InlineData("dispatched", 'd')]
    [InlineData("preflight", 'p')]
    [InlineData("running", 'R')]
    [InlineData("waiting", 'W')]
    [InlineData("succeeded", 'S')]
    [InlineData("failed", 'F')]
    [InlineData("timed_out", 'T')]
    [InlineData("cancelled", 'C')]
    [InlineData("skipped_offline", '-')]
    [InlineData("something_new", '?')]
    public void Symbol_MapsEachStateToItsLegendCharacter(string status, char symbol)
    {
        Assert.Equal(symbol, RunProgressView.Symbol(status));
        if (symbol != '?')
        {
            Assert.Contains($"{symbol} ", RunProgressView.Legend);
        }
    }

    [Fact]
    public void Grid_OrdersByIndexNo_GroupsOfTen_RowsOfFifty_LabelledByFirstIndex()
    {
        // Shuffled on purpose: the server's order must not matter.
        var devices = Enumerable.Reverse(Fleet(60, (1, "succeeded", null), (12, "failed", "x"), (51, "running", null))).ToArray();

        var grid = RunProgressView.Grid(devices);

        Assert.Equal(2, grid.Count);
        Assert.Equal("#1  S......... .F........ .......... .......... ..........", grid[0]);
        Assert.Equal("#51 R.........", grid[1]);
    }

    [Fact]
    public void Grid_PutsUnnumberedDevicesLast()
    {
        var devices = new[] { Device(null, "failed", id: "ZZZ"), Device(2, "succeeded"), Device(1, "running") };

        Assert.Equal("#1 RSF", Assert.Single(RunProgressView.Grid(devices)));
    }

    [Theory]
    [InlineData("failed", "device_unresponsive", "#17 SIM-0017 failed: device_unresponsive")]
    [InlineData("timed_out", "step_timeout", "#17 SIM-0017 timed out: step_timeout")]
    [InlineData("failed", null, "#17 SIM-0017 failed: no reason given")]
    public void FailureLine_NamesIndexDeviceAndReason(string status, string? reason, string expected)
    {
        Assert.Equal(expected, RunProgressView.FailureLine(Device(17, status, reason)));
    }

    [Theory]
    [InlineData("succeeded")]
    [InlineData("running")]
    [InlineData("skipped_offline")]
    [InlineData("cancelled")]
    public void FailureLine_OtherStates_IsNull(string status)
    {
        Assert.Null(RunProgressView.FailureLine(Device(1, status)));
    }

    [Fact]
    public void Frame_HeaderCountsBarGridLegend()
    {
        var detail = Detail(RunStatus.Running, Fleet(3, (1, "succeeded", null), (2, "running", null)));

        var frame = RunProgressView.Frame(detail, CliRunner.Start.AddSeconds(65));

        Assert.Equal($"Run {RunId} login-and-capture v3 · running · 1m05s", frame[0]);
        Assert.StartsWith("queued 1  dispatched 0", frame[1]);
        Assert.EndsWith("1/3  33%", frame[2]);
        Assert.Equal("#1 SR.", frame[3]);
        Assert.Equal(RunProgressView.Legend, frame[4]);
    }

    [Fact]
    public void Summary_ListsNonZeroCountsAndDuration()
    {
        var detail = Detail(RunStatus.Succeeded, Fleet(3, (1, "succeeded", null), (2, "succeeded", null), (3, "skipped_offline", null)));

        Assert.Equal($"Run {RunId} succeeded: 2 succeeded, 1 skipped_offline of 3 devices in 1m12s.", RunProgressView.Summary(detail.Run, CliRunner.Start));
    }
}
