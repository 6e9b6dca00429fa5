using System.Net;
using Harness.Cli.Tests.Operator;
using Harness.Contracts;
using Harness.Contracts.Dashboard;

namespace Harness.Cli.Tests.Commands.Dashboard;

public sealed class DashboardCommandTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Dashboard_PrintsKpisAndTheToDoList()
    {
        var runId = Guid.NewGuid();
        _cli.Api.OnJson("GET", Routes.Dashboard, new DashboardResponse("7d", CliRunner.Start.AddDays(-7),
            new DashboardKpis(10, 1, 7, 2, 0, 200, 190, 0.95, 20, 19, 0.95, new Dictionary<string, int> { ["device_unresponsive"] = 6, ["step_failed"] = 4 }, 12_000, 65_000),
            new DashboardTodo([new("SIM-0007", 7, "PC-01", CliRunner.Start.AddMinutes(-3), "adb: device offline")], [], [new(runId, "login-and-capture", 3, 20, CliRunner.Start)], [])),
            StubApi.Wire.DashboardResponse);

        var result = await _cli.RunAsync("dashboard", "--window", "7d");

        Assert.Equal(0, result.Exit);
        Assert.Equal("/api/dashboard?window=7d", _cli.Api.Requests[0].PathAndQuery);
        Assert.Contains("  runs          10: 1 running, 7 succeeded, 2 failed, 0 cancelled", result.Lines);
        Assert.Contains("  device tasks  200: 190 succeeded (95%)", result.Lines);
        Assert.Contains("  devices       19 of 20 Online (95%)", result.Lines);
        Assert.Contains("  task duration p50 12s, p95 1m05s", result.Lines);
        Assert.Contains("  failures      device_unresponsive 6, step_failed 4", result.Lines);
        Assert.Contains($"  {runId}  login-and-capture  3/20 failed  (harness runs show {runId})", result.Lines);
        Assert.Contains("  #7 SIM-0007  PC-01  last seen 3m00s ago  adb: device offline", result.Lines);
    }

    [Fact]
    public async Task Dashboard_BadWindow_PrintsTheServersFieldError()
    {
        _cli.Api.OnProblem("GET", Routes.Dashboard, HttpStatusCode.BadRequest, "The request is invalid", "window: use a number with m, h or d",
            """{"window":["use a number with m, h or d (e.g. 90m, 24h, 7d), up to 90d"]}""");

        var result = await _cli.RunAsync("dashboard", "--window", "forever");

        Assert.Equal(1, result.Exit);
        Assert.Contains("  window: use a number with m, h or d (e.g. 90m, 24h, 7d), up to 90d", result.Error);
    }
}
