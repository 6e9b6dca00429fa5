using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Harness.Cli.Tests.EndToEnd;
using Harness.Contracts;
using Harness.Contracts.Runs;
using Harness.Testing;

namespace Harness.Cli.Tests.Operations;

/// <summary>SIGTERM, sent to each process's own pid, as Kubernetes, Docker and systemd send it.</summary>
public sealed class GracefulShutdownTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task AgentSigterm_MidRun_LetsRunningTasksFinishWithinTheDrain_LeavesTheRestQueued_AndExitsZero()
    {
        await using var farm = await Farm.StartAsync(4, ["--slow", "300ms"], agent: new()
        {
            ["MAX_CONCURRENCY_PER_NODE"] = "2",
            ["HARNESS_SHUTDOWN_DRAIN_SEC"] = "15",
        }, agentLogFormat: "json");
        var workflow = await farm.PushAsync(Farm.Capture("drain"));
        var runId = await farm.RunAsync(workflow, new RunTarget(All: true), concurrency: 4);
        await WaitForActiveAsync(farm, runId, 2);

        var clock = Stopwatch.StartNew();
        farm.Agent.Signal(HarnessProcess.SigTerm);
        Assert.Equal(0, await farm.Agent.WaitForExitAsync(Bound));
        Assert.True(clock.Elapsed < Bound, $"the agent took {clock.Elapsed} to stop");

        var run = await farm.GetRunAsync(runId);
        Assert.Equal(2, run.Devices.Count(d => d.Status == DeviceRunStatus.Succeeded));
        Assert.Equal(2, run.Devices.Count(d => d.Status == DeviceRunStatus.Queued));
        Assert.Contains(farm.Agent.Lines, l => l.Contains("running task(s) to finish", StringComparison.Ordinal));
        // JSON logs carry the task's scope on every line about it.
        var started = run.Devices.First(d => d.Status == DeviceRunStatus.Succeeded).DeviceId;
        Assert.Contains(farm.Agent.Lines, l => l.Contains("\"Scopes\":[", StringComparison.Ordinal)
            && l.Contains($"\"run_id\":\"{runId}\"", StringComparison.Ordinal) && l.Contains($"\"device_id\":\"{started}\"", StringComparison.Ordinal)
            && l.Contains("\"node_id\":\"PC-E2E\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AgentSigterm_MidRun_ReportsTasksStillRunningAfterTheDrain_AsAgentShutdown_AndExitsZero()
    {
        await using var farm = await Farm.StartAsync(4, ["--slow", "2s"], agent: new()
        {
            ["Agent__Devices__PreflightTimeoutMs"] = "10000",
            ["MAX_CONCURRENCY_PER_NODE"] = "2",
            ["HARNESS_SHUTDOWN_DRAIN_SEC"] = "1",
        });
        var workflow = await farm.PushAsync(Farm.Capture("stop"));
        var runId = await farm.RunAsync(workflow, new RunTarget(All: true), concurrency: 4);
        await WaitForActiveAsync(farm, runId, 2);

        var clock = Stopwatch.StartNew();
        farm.Agent.Signal(HarnessProcess.SigTerm);
        Assert.Equal(0, await farm.Agent.WaitForExitAsync(Bound));
        Assert.True(clock.Elapsed < Bound, $"the agent took {clock.Elapsed} to stop");

        // Reported at once, not after the 60 s lease: the agent said so before it exited.
        var run = await farm.GetRunAsync(runId);
        var stopped = run.Devices.Where(d => d.Status == DeviceRunStatus.Failed).ToList();
        Assert.Equal(2, stopped.Count);
        Assert.All(stopped, d => Assert.Equal(FailureReasons.AgentShutdown, d.FailureReason));
        Assert.Equal(2, run.Devices.Count(d => d.Status == DeviceRunStatus.Queued));
    }

    [Fact]
    public async Task ServerSigterm_FinishesARequestInFlight_AndExitsZero()
    {
        await using var database = await TestDatabase.CreateAsync(Providers.Postgres);
        var url = $"http://127.0.0.1:{HarnessProcess.FreePort()}";
        await using var server = HarnessProcess.Start(["server", "--urls", url, "--log-format", "json"], new Dictionary<string, string?>
        {
            ["HARNESS_ADMIN_TOKEN"] = Farm.AdminToken,
            ["HARNESS_DATABASE_PROVIDER"] = "postgres",
            ["HARNESS_DATABASE_URL"] = database.ConnectionString,
            ["HARNESS_ARTIFACTS_DIR"] = Path.Combine(Path.GetTempPath(), $"harness-drain-{Guid.NewGuid():N}"),
        });
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Farm.AdminToken);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await http.GetAsync(Routes.HealthReady)).IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (HttpRequestException) when (clock.Elapsed < TimeSpan.FromSeconds(60))
            {
            }
            await Task.Delay(200);
        }

        // A workflow whose body trickles in over two seconds; SIGTERM arrives after its first bytes.
        var body = new TricklingContent(System.Text.Json.JsonSerializer.Serialize(Farm.Capture("slow-upload"), HarnessJsonContext.Default.WorkflowDefinition));
        var request = http.PostAsync(Routes.Workflows, body);
        await body.FirstChunkSent.Task.WaitAsync(TimeSpan.FromSeconds(10));
        server.Signal(HarnessProcess.SigTerm);

        using var response = await request;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(0, await server.WaitForExitAsync(Bound));
    }

    private static async Task WaitForActiveAsync(Farm farm, Guid runId, int count) =>
        await farm.WaitUntilAsync(async () =>
        {
            var run = await farm.GetRunAsync(runId);
            return run.Devices.Count(d => d.Status is DeviceRunStatus.Preflight or DeviceRunStatus.Running) == count;
        }, TimeSpan.FromSeconds(30), $"{count} devices of run {runId} running");

    /// <summary>Sends its JSON in ten pieces, 200 ms apart.</summary>
    private sealed class TricklingContent : HttpContent
    {
        private readonly byte[] _bytes;

        public TricklingContent(string json)
        {
            _bytes = Encoding.UTF8.GetBytes(json);
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        public TaskCompletionSource FirstChunkSent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var size = (_bytes.Length + 9) / 10;
            for (var offset = 0; offset < _bytes.Length; offset += size)
            {
                await stream.WriteAsync(_bytes.AsMemory(offset, Math.Min(size, _bytes.Length - offset)));
                await stream.FlushAsync();
                FirstChunkSent.TrySetResult();
                await Task.Delay(200);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _bytes.Length;
            return true;
        }
    }
}
