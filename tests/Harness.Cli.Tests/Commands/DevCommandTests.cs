using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Harness.Contracts;

namespace Harness.Cli.Tests.Commands;

/// <summary><c>harness dev</c> as a newcomer runs it: one process, a URL and a token printed, the agent online.</summary>
public sealed class DevCommandTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"harness-dev-{Guid.NewGuid():N}");

    [Fact]
    public async Task Dev_ServesHealth_AgentOnlineWithin10s_AndCtrlCStopsCleanly()
    {
        var port = Testing.HarnessProcess.FreePort();
        await using var dev = Testing.HarnessProcess.Start(["dev", "--data-dir", _dataDir], new Dictionary<string, string?> { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}" });

        var urlLine = await dev.WaitForLineAsync(l => l.Contains("Console / API", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
        var url = urlLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).Last();
        Assert.Equal($"http://127.0.0.1:{port}", url);
        var token = (await dev.WaitForLineAsync(l => l.Contains("Admin token", StringComparison.Ordinal), TimeSpan.FromSeconds(5)))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Last();
        Assert.StartsWith("hop_", token);

        using var http = new HttpClient { BaseAddress = new Uri(url) };
        Assert.Equal("ok", (await http.GetFromJsonAsync(Routes.Health, HarnessJsonContext.Default.HealthResponse))!.Status);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        while (true)
        {
            var agents = (await http.GetFromJsonAsync(Routes.Agents, HarnessJsonContext.Default.IReadOnlyListAgentView))!;
            if (agents.Any(a => a.Name == "PC-01" && a.Online))
            {
                break;
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the dev agent was not online within 10 s");
            await Task.Delay(200);
        }

        dev.Signal(Testing.HarnessProcess.SigInt);
        Assert.Equal(0, await dev.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("Harness dev stopped.", dev.Output);
        Assert.DoesNotContain(dev.Lines, l => l.Contains("fail:", StringComparison.Ordinal) || l.Contains("crit:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Dev_SecondStart_KeepsTheDataTheTokenAndTheAgent()
    {
        string firstToken;
        await using (var first = Testing.HarnessProcess.Start(["dev", "--data-dir", _dataDir, "--urls", $"http://127.0.0.1:{Testing.HarnessProcess.FreePort()}"]))
        {
            firstToken = (await first.WaitForLineAsync(l => l.Contains("Admin token", StringComparison.Ordinal), TimeSpan.FromSeconds(60))).Split(' ').Last();
            await first.WaitForLineAsync(l => l.Contains("Agent online", StringComparison.Ordinal), TimeSpan.FromSeconds(15));
            first.Signal(Testing.HarnessProcess.SigTerm);
            Assert.Equal(0, await first.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }

        await using var second = Testing.HarnessProcess.Start(["dev", "--data-dir", _dataDir, "--urls", $"http://127.0.0.1:{Testing.HarnessProcess.FreePort()}"]);
        var secondToken = (await second.WaitForLineAsync(l => l.Contains("Admin token", StringComparison.Ordinal), TimeSpan.FromSeconds(60))).Split(' ').Last();
        await second.WaitForLineAsync(l => l.Contains("Agent online", StringComparison.Ordinal), TimeSpan.FromSeconds(15));

        Assert.Equal(firstToken, secondToken);
        Assert.DoesNotContain(second.Lines, l => l.Contains("Enrolled as", StringComparison.Ordinal));
        second.Signal(Testing.HarnessProcess.SigInt);
        Assert.Equal(0, await second.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }
}
