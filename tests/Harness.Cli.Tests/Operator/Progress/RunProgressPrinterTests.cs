using Harness.Cli.Operator.Progress;
using Harness.Contracts.Runs;
using static Harness.Cli.Tests.Operator.RunData;

namespace Harness.Cli.Tests.Operator.Progress;

public sealed class RunProgressPrinterTests
{
    private const char Esc = '\u001b';

    [Fact]
    public void Redirected_PrintsAPlainLineOnlyWhenCountsChange_NoAnsi()
    {
        var output = new StringWriter();
        var printer = new RunProgressPrinter(output, interactive: false, new TerminalSize(200, 60));
        var queued = Detail(RunStatus.Running, Fleet(3));
        var oneRunning = Detail(RunStatus.Running, Fleet(3, (1, "running", null)));

        printer.Render(queued, CliRunner.Start);
        printer.Render(queued, CliRunner.Start.AddSeconds(1));
        printer.Render(oneRunning, CliRunner.Start.AddSeconds(2));
        printer.Render(oneRunning, CliRunner.Start.AddSeconds(3));

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["08:00:00 running 0/3 ended  queued 3", "08:00:02 running 0/3 ended  queued 2  running 1"], lines);
        Assert.DoesNotContain(Esc, output.ToString());
    }

    [Fact]
    public void Redirected_PrintsEachFailureOnce_InIndexOrder()
    {
        var output = new StringWriter();
        var printer = new RunProgressPrinter(output, interactive: false, new TerminalSize(200, 60));

        printer.Render(Detail(RunStatus.Running, Fleet(20, (17, "failed", "device_unresponsive"))), CliRunner.Start);
        printer.Render(Detail(RunStatus.Running, Fleet(20, (17, "failed", "device_unresponsive"), (3, "timed_out", "step_timeout"))), CliRunner.Start);
        printer.Render(Detail(RunStatus.Running, Fleet(20, (17, "failed", "device_unresponsive"), (3, "timed_out", "step_timeout"))), CliRunner.Start);

        var failures = output.ToString().Split('\n').Where(l => l.StartsWith('#')).ToList();
        Assert.Equal(["#17 SIM-0017 failed: device_unresponsive", "#3 SIM-0003 timed out: step_timeout"], failures);
    }

    [Fact]
    public void Interactive_RedrawsTheFrameInPlace_FailuresScrollAboveIt()
    {
        var output = new StringWriter();
        var printer = new RunProgressPrinter(output, interactive: true, new TerminalSize(200, 60));
        var first = Detail(RunStatus.Running, Fleet(3, (1, "running", null)));
        var second = Detail(RunStatus.Running, Fleet(3, (1, "failed", "preflight_failed"), (2, "running", null)));

        printer.Render(first, CliRunner.Start);
        var firstDraw = output.ToString();
        printer.Render(second, CliRunner.Start);
        var redraw = output.ToString()[firstDraw.Length..];

        Assert.DoesNotContain(Esc, firstDraw);
        var frameHeight = RunProgressView.Frame(first, CliRunner.Start).Count;
        Assert.StartsWith($"{Esc}[{frameHeight}A\r{Esc}[J", redraw);
        var redrawLines = redraw[$"{Esc}[{frameHeight}A\r{Esc}[J".Length..].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("#1 SIM-0001 failed: preflight_failed", redrawLines[0]);
        Assert.StartsWith("Run ", redrawLines[1]);
        Assert.Contains("#1 FR.", redrawLines);
    }

    [Fact]
    public void Interactive_SmallTerminal_GridFitsWidthAndHeight()
    {
        var output = new StringWriter();
        var printer = new RunProgressPrinter(output, interactive: true, new TerminalSize(40, 16));

        printer.Render(Detail(RunStatus.Running, Fleet(200)), CliRunner.Start);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length < 16, $"{lines.Length} lines on a 16-line terminal");
        Assert.All(lines, l => Assert.True(l.Length < 40, l));
        Assert.Contains("#1  .......... .......... ..........", lines);
        Assert.Contains(lines, l => l.StartsWith("… 110 more devices", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(200, 50)]
    [InlineData(80, 50)]
    [InlineData(40, 30)]
    [InlineData(39, 20)]
    [InlineData(10, 10)]
    public void GridColumns_FiftyUnlessTheTerminalIsNarrow(int width, int columns)
    {
        Assert.Equal(columns, RunProgressPrinter.GridColumns(width));
    }

    [Fact]
    public void Fit_BreaksLongLinesAtDoubleSpaces_SoTheRedrawCountsRight()
    {
        var lines = RunProgressPrinter.Fit(["aaaa  bbbb  cccc", "short"], width: 12);

        Assert.Equal(["aaaa  bbbb", "cccc", "short"], lines);
        Assert.All(RunProgressPrinter.Fit([RunProgressView.Legend, RunProgressView.CountsLine(Counts([]))], 40), l => Assert.True(l.Length < 40, l));
    }
}
