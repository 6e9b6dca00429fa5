using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Harness.Contracts;
using Harness.Contracts.Runs;
using Harness.Contracts.Workflows;
using Harness.Testing;

namespace Harness.Cli.Tests.EndToEnd;

/// <summary>
/// A whole farm as real processes: <c>harness server</c> on PostgreSQL, <c>harness devicesim</c>
/// serving simulated devices over the vendor WebSocket, and <c>harness agent</c> driving them.
/// Every process is stopped by its own pid.
/// </summary>
public sealed partial class Farm : IAsyncDisposable
{
    public const string AdminToken = "farm-test-admin-token-0123456789";
    public const string FleetSecret = "farm-test-fleet-secret-0123456789";
    public const string Node = "PC-E2E";

    private readonly string _root = Directory.CreateTempSubdirectory("harness-farm-").FullName;
    private readonly Dictionary<string, string?> _serverEnvironment;
    private readonly Dictionary<string, string?> _agentEnvironment;
    private TestDatabase _database = null!;
    private string _agentLogFormat = "text";

    private Farm(Dictionary<string, string?> server, Dictionary<string, string?> agent, int? serverPort)
    {
        _serverEnvironment = server;
        _agentEnvironment = agent;
        Url = $"http://127.0.0.1:{serverPort ?? HarnessProcess.FreePort()}";
        VendorUrl = $"ws://127.0.0.1:{HarnessProcess.FreePort()}";
        Http = new HttpClient { BaseAddress = new Uri(Url) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
    }

    public string Url { get; }
    public string VendorUrl { get; }
    public HttpClient Http { get; }
    public HarnessProcess Server { get; private set; } = null!;
    public HarnessProcess Agent { get; private set; } = null!;
    public HarnessProcess Simulator { get; private set; } = null!;
    public string ArtifactsDir => Path.Combine(_root, "artifacts");
    public string AgentStateDir => Path.Combine(_root, "agent");

    /// <summary>Devices the simulator was told to break, by fault (<c>offline</c>, <c>unresponsive</c> …).</summary>
    public Dictionary<string, List<string>> Faults { get; } = [];

    /// <summary>
    /// Starts the three processes and waits until the agent reports every device. <paramref name="serverPort"/>
    /// fixes the server's port (for a proxy in front of it); <paramref name="postgresAdmin"/> puts the database on a cluster of the test's own.
    /// </summary>
    public static async Task<Farm> StartAsync(int devices, string[] simulatorArgs, Dictionary<string, string?>? server = null, Dictionary<string, string?>? agent = null,
        string agentLogFormat = "text", int? serverPort = null, string? postgresAdmin = null)
    {
        var farm = new Farm(server ?? [], agent ?? [], serverPort) { _agentLogFormat = agentLogFormat };
        farm._database = await TestDatabase.CreateAsync(Providers.Postgres, postgresAdmin);
        farm.Simulator = HarnessProcess.Start(["devicesim", "--devices", devices.ToString(), "--url", farm.VendorUrl, .. simulatorArgs]);
        await farm.Simulator.WaitForLineAsync(l => l.Contains("Ctrl-C stops it", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        foreach (Match m in FaultLine().Matches(farm.Simulator.Output))
        {
            var fault = m.Groups[2].Value;
            if (!farm.Faults.TryGetValue(fault, out var list))
            {
                farm.Faults[fault] = list = [];
            }
            list.Add(m.Groups[1].Value);
        }
        await farm.StartServerAsync();
        farm.StartAgent();
        await farm.WaitUntilAsync(async () =>
        {
            var status = (await farm.Http.GetFromJsonAsync(Routes.NodesStatus, HarnessJsonContext.Default.NodeStatusResponse))!;
            return status.Total == devices;
        }, TimeSpan.FromSeconds(60), "every simulated device registered");
        return farm;
    }

    public async Task StartServerAsync()
    {
        var environment = new Dictionary<string, string?>
        {
            ["HARNESS_ADMIN_TOKEN"] = AdminToken,
            ["NODE_AGENT_SHARED_SECRET"] = FleetSecret,
            ["HARNESS_DATABASE_PROVIDER"] = "postgres",
            ["HARNESS_DATABASE_URL"] = _database.ConnectionString,
            ["HARNESS_ARTIFACTS_DIR"] = ArtifactsDir,
            ["Harness__Dispatch__SweepIntervalSec"] = "1",
        };
        foreach (var (k, v) in _serverEnvironment)
        {
            environment[k] = v;
        }
        Server = HarnessProcess.Start(["server", "--urls", Url, "--log-format", "text"], environment);
        await WaitUntilAsync(async () =>
        {
            try
            {
                return (await Http.GetAsync(Routes.HealthReady)).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), "the server is ready");
    }

    public void StartAgent()
    {
        var environment = new Dictionary<string, string?>
        {
            ["HARNESS_SERVER_URL"] = Url,
            ["HARNESS_AGENT_NAME"] = Node,
            ["HARNESS_AGENT_STATE_DIR"] = AgentStateDir,
            ["NODE_AGENT_SHARED_SECRET"] = FleetSecret,
            ["HARNESS_DEVICE_ADAPTER"] = "vendor-ws",
            ["VENDOR_WS_URL"] = VendorUrl,
            ["DEVICE_GRACE_WAIT_MS"] = "2000",
            ["Agent__Devices__PreflightTimeoutMs"] = "1500",
            // Quarantine is tested elsewhere; here it must not take the broken devices out before the run.
            ["Agent__Devices__ProbeIntervalSec"] = "3600",
            ["Agent__HeartbeatIntervalSec"] = "1",
            ["Agent__BackoffInitialSec"] = "0.2",
            ["Agent__BackoffMaxSec"] = "1",
        };
        foreach (var (k, v) in _agentEnvironment)
        {
            environment[k] = v;
        }
        Agent = HarnessProcess.Start(["agent", "--log-format", _agentLogFormat], environment);
    }

    public async Task<Guid> PushAsync(WorkflowDefinition workflow)
    {
        var response = await Http.PostAsJsonAsync(Routes.Workflows, workflow, HarnessJsonContext.Default.WorkflowDefinition);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync(HarnessJsonContext.Default.WorkflowCreatedResponse))!.WorkflowId;
    }

    public async Task<Guid> RunAsync(Guid workflowId, RunTarget target, int? concurrency = null, string? subject = null)
    {
        var response = await Http.PostAsJsonAsync(Routes.Runs,
            new CreateRunRequest(workflowId, Target: target, Concurrency: concurrency, Subject: subject), HarnessJsonContext.Default.CreateRunRequest);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync(HarnessJsonContext.Default.RunCreatedResponse))!.RunId;
    }

    public async Task<RunDetail> GetRunAsync(Guid runId) =>
        (await Http.GetFromJsonAsync($"{Routes.Runs}/{runId}", HarnessJsonContext.Default.RunDetail))!;

    public async Task<RunDetail> WaitForEndAsync(Guid runId, TimeSpan timeout)
    {
        RunDetail? detail = null;
        await WaitUntilAsync(async () => RunStatus.IsTerminal((detail = await GetRunAsync(runId)).Run.Status), timeout, $"run {runId} ended");
        return detail!;
    }

    public async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"not within {timeout}: {what}\n--- server\n{Tail(Server)}\n--- agent\n{Tail(Agent)}");
            }
            await Task.Delay(250);
        }
    }

    private static string Tail(HarnessProcess? process) =>
        process is null ? "" : string.Join('\n', process.Lines.TakeLast(60));

    /// <summary>The workflow every farm test runs: the DESIGN §5 shape with a screenshot and its upload.</summary>
    public static WorkflowDefinition Capture(string name) => new(name,
    [
        new WorkflowStep("pre", StepTypes.Preflight),
        new WorkflowStep("open", StepTypes.LaunchApp, Params("package", "com.example.app")),
        new WorkflowStep("user", StepTypes.InputText, Params("text", "alice")),
        new WorkflowStep("shot", StepTypes.Screenshot, Params("name", "home")),
        new WorkflowStep("up", StepTypes.Upload),
        new WorkflowStep("done", StepTypes.Report),
    ]);

    private static Dictionary<string, System.Text.Json.JsonElement> Params(string key, string value) =>
        new() { [key] = System.Text.Json.JsonDocument.Parse(System.Text.Json.JsonSerializer.Serialize(value, HarnessJsonContext.Default.String)).RootElement.Clone() };

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        foreach (var process in new[] { Agent, Server, Simulator })
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }
        }
        await _database.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [GeneratedRegex(@"^\s+(SIM-\d+): (\w+)", RegexOptions.Multiline)]
    private static partial Regex FaultLine();
}
