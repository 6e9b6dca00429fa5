using System.Text.Json;
using Harness.Cli.Tests.Operator;
using Harness.Contracts;
using Harness.Contracts.Runs;
using static Harness.Cli.Tests.Operator.RunData;

namespace Harness.Cli.Tests.Commands.Runs;

public sealed class RunsCommandTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task List_PassesFilters_AndPrintsOneRowPerRun()
    {
        var detail = Detail(RunStatus.Failed, Fleet(4, (1, "succeeded", null), (2, "failed", "x"), (3, "timed_out", null), (4, "skipped_offline", null)));
        _cli.Api.OnJson("GET", Routes.Runs, new Page<RunSummary>([detail.Run], "next"), StubApi.Wire.PageRunSummary);

        var result = await _cli.RunAsync("runs", "list", "--status", "failed", "--limit", "5");

        Assert.Equal(0, result.Exit);
        Assert.Equal($"{Routes.Runs}?status=failed&limit=5", _cli.Api.Requests[0].PathAndQuery);
        Assert.StartsWith("RUN_ID", result.Lines[0]);
        var row = result.Lines[1].Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal([RunId.ToString(), "login-and-capture v3", "failed", "4", "1", "2", "1"], row[..7]);
        Assert.Contains("more", result.Lines[^1]);
    }

    [Fact]
    public async Task List_ByWorkflow_SendsItsId_AndShowsOnlyItsRuns()
    {
        _cli.Api.OnJson<IReadOnlyList<Harness.Contracts.Workflows.WorkflowView>>("GET", Routes.Workflows,
            [new(WorkflowId, "login-and-capture", 3, null, 6, CliRunner.Start, CliRunner.Start)], StubApi.Wire.IReadOnlyListWorkflowView);
        var other = Summary(RunStatus.Succeeded, Counts([])) with { RunId = Guid.NewGuid(), WorkflowId = Guid.NewGuid(), WorkflowName = "other" };
        _cli.Api.OnJson("GET", Routes.Runs, new Page<RunSummary>([Summary(RunStatus.Succeeded, Counts([])), other], null), StubApi.Wire.PageRunSummary);

        var result = await _cli.RunAsync("runs", "list", "--workflow", "login-and-capture");

        Assert.Equal($"{Routes.Runs}?workflow_id={WorkflowId}&limit=20", _cli.Api.Requests[1].PathAndQuery);
        Assert.Equal(2, result.Lines.Length);
        Assert.DoesNotContain("other", result.Out);
    }

    [Theory]
    [InlineData("--status", "weird")]
    [InlineData("--limit", "0")]
    public async Task List_BadFilter_IsAParseError(string option, string value)
    {
        var result = await _cli.RunAsync("runs", "list", option, value);

        Assert.NotEqual(0, result.Exit);
        Assert.Contains(value, result.Error);
        Assert.Empty(_cli.Api.Requests);
    }

    [Fact]
    public async Task Show_PrintsSummaryAndADeviceTableByIndex()
    {
        var detail = Detail(RunStatus.Running,
            Device(2, "failed", "device_unresponsive", node: "PC-02", steps: 2),
            Device(1, "succeeded", steps: 6, artifacts: 1),
            Device(3, "running", steps: 1));
        _cli.Api.OnJson("GET", $"{Routes.Runs}/{RunId}", detail, StubApi.Wire.RunDetail);

        var result = await _cli.RunAsync("runs", "show", RunId.ToString());

        Assert.Equal(0, result.Exit);
        Assert.StartsWith($"Run {RunId} login-and-capture v3 · running", result.Lines[0]);
        Assert.Contains(result.Lines, l => l.Contains("vars        user=alice"));
        var header = Array.FindIndex(result.Lines, l => l.StartsWith("INDEX", StringComparison.Ordinal));
        Assert.Equal(["INDEX", "DEVICE", "NODE", "STATUS", "REASON", "STEPS", "ARTIFACTS", "ATTEMPT"], Cells(result.Lines[header]));
        Assert.Equal(["1", "SIM-0001", "PC-01", "succeeded", "6/6", "1", "1"], Cells(result.Lines[header + 1]));
        Assert.Equal(["2", "SIM-0002", "PC-02", "failed", "device_unresponsive", "2/2", "0", "1"], Cells(result.Lines[header + 2]));
        Assert.Equal("3", Cells(result.Lines[header + 3])[0]);
    }

    [Fact]
    public async Task Show_Json_IsTheRunDetail()
    {
        _cli.Api.OnJson("GET", $"{Routes.Runs}/{RunId}", Detail(RunStatus.Running, Fleet(2)), StubApi.Wire.RunDetail);

        var result = await _cli.RunAsync("runs", "show", RunId.ToString(), "--json");

        using var json = JsonDocument.Parse(result.Out);
        Assert.Equal(2, json.RootElement.GetProperty("devices").GetArrayLength());
        Assert.Equal("SIM-0001", json.RootElement.GetProperty("devices")[0].GetProperty("device_id").GetString());
    }

    [Fact]
    public async Task Show_NotAGuid_IsAParseError()
    {
        var result = await _cli.RunAsync("runs", "show", "abc");

        Assert.NotEqual(0, result.Exit);
        Assert.Contains("run-id 'abc': not an id", result.Error);
        Assert.Empty(_cli.Api.Requests);
    }

    [Fact]
    public async Task Show_AnswerThatIsNotTheRunShape_SaysSoWithoutAStackTrace()
    {
        _cli.Api.On("GET", $"{Routes.Runs}/{RunId}", _ => StubApi.Json("""{"run": 42}"""));

        var result = await _cli.RunAsync("runs", "show", RunId.ToString());

        Assert.Equal(1, result.Exit);
        Assert.Contains("answered with JSON this CLI does not understand", result.Error);
    }

    [Fact]
    public async Task Show_UnknownRun_PrintsTheProblem()
    {
        _cli.Api.OnProblem("GET", $"{Routes.Runs}/{RunId}", System.Net.HttpStatusCode.NotFound, "Not Found", $"run {RunId} does not exist");

        var result = await _cli.RunAsync("runs", "show", RunId.ToString());

        Assert.Equal(1, result.Exit);
        Assert.Contains("harness: 404 Not Found", result.Error);
        Assert.Contains($"run {RunId} does not exist", result.Error);
    }

    [Fact]
    public async Task Cancel_PostsToCancel_AndPrintsTheNewStatus()
    {
        _cli.Api.OnJson("POST", $"{Routes.Runs}/{RunId}/cancel", Summary(RunStatus.Cancelled, Counts(Fleet(2, (1, "cancelled", null), (2, "succeeded", null)))), StubApi.Wire.RunSummary);

        var result = await _cli.RunAsync("runs", "cancel", RunId.ToString());

        Assert.Equal(0, result.Exit);
        Assert.Equal($"Cancel requested for run {RunId}: now cancelled.", result.Lines[0]);
        Assert.Contains("succeeded 1  cancelled 1", result.Out);
        Assert.Null(_cli.Api.Single("POST", $"{Routes.Runs}/{RunId}/cancel").Body);
    }

    private static string[] Cells(string line) => line.Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
