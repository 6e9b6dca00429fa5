using System.Net;
using Harness.Cli.Tests.Operator;
using Harness.Contracts;
using Harness.Contracts.Runs;
using static Harness.Cli.Tests.Operator.RunData;

namespace Harness.Cli.Tests.Commands.Runs;

public sealed class FollowTests : IDisposable
{
    private readonly CliRunner _cli = new();
    private readonly string _runPath = $"{Routes.Runs}/{RunId}";

    public FollowTests()
    {
        _cli.Api.OnJson("POST", Routes.Runs, new RunCreatedResponse(RunId, WorkflowId, 3, null, null, RunStatus.Queued, Counts(Fleet(3))),
            StubApi.Wire.RunCreatedResponse, HttpStatusCode.Created);
    }

    public void Dispose() => _cli.Dispose();

    private void Snapshots(params RunDetail[] details)
    {
        foreach (var detail in details)
        {
            _cli.Api.OnJson("GET", _runPath, detail, StubApi.Wire.RunDetail);
        }
    }

    [Fact]
    public async Task Follow_Succeeded_PollsEverySecondUntilTheEnd_Exit0()
    {
        Snapshots(
            Detail(RunStatus.Queued, Fleet(3)),
            Detail(RunStatus.Running, Fleet(3, (1, "running", null))),
            Detail(RunStatus.Running, Fleet(3, (1, "running", null))),
            Detail(RunStatus.Succeeded, Fleet(3, (1, "succeeded", null), (2, "succeeded", null), (3, "skipped_offline", null))));

        var result = await _cli.RunAsync("runs", "create", "--playbook", Guid.NewGuid().ToString(), "--follow");

        Assert.Equal(0, result.Exit);
        Assert.Equal(4, _cli.Api.Requests.Count(r => r.PathAndQuery == _runPath));
        Assert.Equal(CliRunner.Start.AddSeconds(3), _cli.Clock.GetUtcNow());
        // Redirected: one plain line per change of counts, then the summary.
        Assert.Equal(3, result.Lines.Count(l => l.StartsWith("08:00:0", StringComparison.Ordinal)));
        Assert.Equal($"Run {RunId} succeeded: 2 succeeded, 1 skipped_offline of 3 devices in 1m12s.", result.Lines[^1]);
        Assert.DoesNotContain('\u001b', result.Out);
    }

    [Theory]
    [InlineData(RunStatus.Failed)]
    [InlineData(RunStatus.Cancelled)]
    public async Task Follow_FailedOrCancelled_Exit1_FailuresListed(string status)
    {
        Snapshots(
            Detail(RunStatus.Running, Fleet(20, (17, "failed", "device_unresponsive"))),
            Detail(status, Fleet(20, (17, "failed", "device_unresponsive"), (2, "cancelled", null))));

        var result = await _cli.RunAsync("runs", "show", RunId.ToString(), "--follow");

        Assert.Equal(1, result.Exit);
        Assert.Single(result.Lines, "#17 SIM-0017 failed: device_unresponsive");
        Assert.StartsWith($"Run {RunId} {status}:", result.Lines[^1]);
    }

    [Fact]
    public async Task Follow_CtrlC_StopsFollowingNotTheRun_AndSaysHowToResume()
    {
        Snapshots(Detail(RunStatus.Running, Fleet(3, (1, "running", null))));
        _cli.OnDelay = polls =>
        {
            if (polls == 2)
            {
                _cli.PressCtrlC();
            }
        };

        var result = await _cli.RunAsync("runs", "create", "--playbook", Guid.NewGuid().ToString(), "--follow");

        Assert.Equal(130, result.Exit);
        Assert.Contains($"Resume with: harness runs show {RunId} --follow", result.Out);
        Assert.DoesNotContain(_cli.Api.Requests, r => r.PathAndQuery.EndsWith("/cancel", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Follow_Interactive_RedrawsInPlace()
    {
        _cli.Interactive = true;
        Snapshots(
            Detail(RunStatus.Running, Fleet(3, (1, "running", null))),
            Detail(RunStatus.Succeeded, Fleet(3, (1, "succeeded", null), (2, "succeeded", null), (3, "succeeded", null))));

        var result = await _cli.RunAsync("runs", "show", RunId.ToString(), "--follow");

        Assert.Equal(0, result.Exit);
        Assert.Contains("\u001b[", result.Out);
        Assert.Contains("#1 SSS", result.Out);
        Assert.Contains(". queued", result.Out);
    }

    [Fact]
    public async Task Follow_Json_PrintsOnlyTheFinalRun()
    {
        Snapshots(
            Detail(RunStatus.Running, Fleet(2, (1, "running", null))),
            Detail(RunStatus.Failed, Fleet(2, (1, "succeeded", null), (2, "failed", "step_failed"))));

        var result = await _cli.RunAsync("runs", "create", "--playbook", Guid.NewGuid().ToString(), "--follow", "--json");

        Assert.Equal(1, result.Exit);
        using var json = System.Text.Json.JsonDocument.Parse(result.Out);
        Assert.Equal("failed", json.RootElement.GetProperty("run").GetProperty("status").GetString());
        Assert.Equal("step_failed", json.RootElement.GetProperty("devices")[1].GetProperty("failure_reason").GetString());
    }

    [Fact]
    public async Task Follow_ServerBlips_KeepsFollowing()
    {
        var calls = 0;
        _cli.Api.On("GET", _runPath, _ => ++calls == 1
            ? throw new HttpRequestException("Connection refused")
            : StubApi.Json(System.Text.Json.JsonSerializer.Serialize(Detail(RunStatus.Succeeded, Fleet(1, (1, "succeeded", null))), StubApi.Wire.RunDetail)));

        var result = await _cli.RunAsync("runs", "show", RunId.ToString(), "--follow");

        Assert.Equal(0, result.Exit);
        Assert.Contains("lost the server", result.Error);
    }
}
