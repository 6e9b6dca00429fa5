using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Harness.Contracts;
using Harness.Testing;

namespace Harness.Cli.Tests.Commands;

/// <summary>Production shape: <c>harness migrate</c>, <c>harness server</c> on real PostgreSQL, a separate <c>harness agent</c>.</summary>
public sealed class ServerAgentProcessTests : IAsyncLifetime
{
    private const string AdminToken = "process-test-admin-token-0123456789";
    private const string FleetSecret = "process-test-fleet-secret-0123456789";
    private readonly string _stateDir = Path.Combine(Path.GetTempPath(), $"harness-agent-{Guid.NewGuid():N}");
    private TestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync(Providers.Postgres);

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        if (Directory.Exists(_stateDir))
        {
            Directory.Delete(_stateDir, recursive: true);
        }
    }

    [Fact]
    public async Task MigrateThenServerAndAgent_OnPostgres_AgentEnrollsAndComesOnline_AndBothStopOnSigterm()
    {
        var database = new[] { "--database-provider", "postgres", "--database-url", _database.ConnectionString };
        await using (var migrate = HarnessProcess.Start(["migrate", .. database]))
        {
            Assert.Equal(0, await migrate.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Matches(@"Applied [1-9][0-9]* migration\(s\)", migrate.Output);
        }

        var url = $"http://127.0.0.1:{HarnessProcess.FreePort()}";
        await using var server = HarnessProcess.Start(["server", "--urls", url, .. database],
            new Dictionary<string, string?> { ["HARNESS_ADMIN_TOKEN"] = AdminToken, ["NODE_AGENT_SHARED_SECRET"] = FleetSecret });
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        await WaitUntilAsync(async () => (await TryGetAsync(http, Routes.HealthReady)) == System.Net.HttpStatusCode.OK, TimeSpan.FromSeconds(60), server);

        await using var agent = HarnessProcess.Start(["agent", "--server", url, "--name", "PC-09", "--state-dir", _stateDir],
            new Dictionary<string, string?> { ["NODE_AGENT_SHARED_SECRET"] = FleetSecret });
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        await WaitUntilAsync(async () =>
        {
            var agents = (await http.GetFromJsonAsync(Routes.Agents, HarnessJsonContext.Default.IReadOnlyListAgentView))!;
            return agents.Any(a => a.Name == "PC-09" && a.Online);
        }, TimeSpan.FromSeconds(30), agent);
        Assert.True(File.Exists(Path.Combine(_stateDir, "agent.key")));

        agent.Signal(HarnessProcess.SigTerm);
        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        server.Signal(HarnessProcess.SigTerm);
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));

        // Structured logs: every line the server wrote is one JSON object.
        var logLines = server.Lines.Where(l => l.StartsWith('{')).ToList();
        Assert.NotEmpty(logLines);
        Assert.All(logLines, l => Assert.True(JsonDocument.Parse(l).RootElement.TryGetProperty("LogLevel", out _)));
        Assert.DoesNotContain(AdminToken, server.Output);
        Assert.DoesNotContain(FleetSecret, server.Output + agent.Output);
    }

    private static async Task<System.Net.HttpStatusCode?> TryGetAsync(HttpClient http, string path)
    {
        try
        {
            return (await http.GetAsync(path)).StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, HarnessProcess process)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"condition not met within {timeout}; process output:\n{process.Output}");
            }
            await Task.Delay(200);
        }
    }
}
