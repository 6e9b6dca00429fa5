using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Harness.Agent.Execution;
using Harness.Agent.Listener;
using Harness.Agent.Tests.Fakes;
using Harness.Agent.Tests.Listener;
using Harness.Client;
using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Runs;
using Harness.Contracts.Workflows;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using static Harness.Agent.Tests.Fakes.TestTasks;

namespace Harness.Agent.Tests;

/// <summary>
/// The whole agent side against a scripted server: pull → scheduler → runner → durable outbox →
/// callbacks and artifact upload, with the task held in pulls until its final report is delivered.
/// </summary>
public sealed class AgentPipelineTests : IAsyncLifetime
{
    private const string Accepted = """{"accepted":1,"duplicates":0,"ignored":0,"results":[]}""";

    private readonly SignallingTimeProvider _time = new();
    private readonly FakeDeviceAdapter _adapter = new() { Devices = [FakeDeviceAdapter.Ready("d1")] };
    private readonly Channel<PullResponse> _pullAnswers = Channel.CreateUnbounded<PullResponse>();
    private readonly Channel<PullRequest> _pulls = Channel.CreateUnbounded<PullRequest>();
    private readonly ConcurrentQueue<CallbackEvent> _delivered = new();
    private readonly ConcurrentQueue<RecordedRequest> _uploads = new();
    private readonly string _stateDir = Path.Combine(Path.GetTempPath(), $"harness-agent-{Guid.NewGuid():N}");
    private readonly ServiceProvider _services;
    private readonly List<IHostedService> _hosted;

    public AgentPipelineTests()
    {
        var handler = new RecordingHandler(async (r, ct) =>
        {
            switch (r.Path)
            {
                case Routes.NodesPull:
                    _pulls.Writer.TryWrite(JsonSerializer.Deserialize(r.Body, HarnessJsonContext.Default.PullRequest)!);
                    var answer = await _pullAnswers.Reader.ReadAsync(ct);
                    return RecordingHandler.Json(JsonSerializer.Serialize(answer, HarnessJsonContext.Default.PullResponse));
                case Routes.NodesCallback:
                    foreach (var e in JsonSerializer.Deserialize(r.Body, HarnessJsonContext.Default.CallbackBatch)!.Events!)
                    {
                        _delivered.Enqueue(e);
                    }
                    return RecordingHandler.Json(Accepted);
                case Routes.NodesArtifacts:
                    _uploads.Enqueue(r);
                    return RecordingHandler.Json("{}", System.Net.HttpStatusCode.Created);
                default:
                    return RecordingHandler.Problem(System.Net.HttpStatusCode.NotFound, r.Path);
            }
        });
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:Name"] = "PC-01",
            ["Agent:ApiKey"] = "hak_0011223344556677.secret",
            ["Agent:StateDir"] = _stateDir,
            ["Agent:Devices:Adapter"] = "simulator",
            ["Agent:Devices:MaxConcurrency"] = "2",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(_time);
        services.AddHarnessAgent(configuration);
        services.AddDeviceAdapter(_ => _adapter);
        services.Replace(ServiceDescriptor.Singleton(new HarnessNodeClient(new HttpClient(handler) { BaseAddress = new Uri("http://127.0.0.1:5080") })));
        _services = services.BuildServiceProvider();
        // The heartbeat and the probes have their own tests; here only the work path runs.
        _hosted = [.. _services.GetServices<IHostedService>().Where(h => h is OutboxSender or PullLoop)];
    }

    public System.Threading.Tasks.Task InitializeAsync() => System.Threading.Tasks.Task.CompletedTask;

    // xUnit v2 calls IAsyncLifetime.DisposeAsync on a test class, never IAsyncDisposable.DisposeAsync.
    public async System.Threading.Tasks.Task DisposeAsync()
    {
        foreach (var hosted in Enumerable.Reverse(_hosted))
        {
            await hosted.StopAsync(CancellationToken.None);
        }
        await _services.DisposeAsync();
        Directory.Delete(_stateDir, recursive: true);
    }

    private async Task<PullRequest> NextPullAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _pulls.Reader.ReadAsync(timeout.Token);
    }

    private void Answer(params DeviceTask[] tasks) => _pullAnswers.Writer.TryWrite(new PullResponse(tasks, [], [], 30, _time.GetUtcNow()));

    [Fact]
    public async Task PulledTask_RunsReportsUploads_AndStaysHeldUntilItsFinalReportIsDelivered()
    {
        var task = Task("d1", [Step("pre", StepTypes.Preflight), Step("shot", StepTypes.Screenshot), Step("up", StepTypes.Upload), Step("done", StepTypes.Report)]);
        foreach (var hosted in _hosted)
        {
            await hosted.StartAsync(default);
        }

        await NextPullAsync();
        Answer(task);
        var second = await NextPullAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            var outbox = _services.GetRequiredService<IOutbox>();
            while (!_delivered.Any(e => e.Status == DeviceRunStatus.Succeeded) || _uploads.IsEmpty || outbox.PendingCount > 0)
            {
                await System.Threading.Tasks.Task.Delay(10, timeout.Token);
            }
        }
        Answer();
        while (await _time.TimerArmedAsync() != PullLoop.MinEmptyPullInterval)
        {
            // Skip the runner's and the sender's timers: wait for the pull loop's pause after an empty answer.
        }
        _time.Advance(TimeSpan.FromSeconds(1));
        var third = await NextPullAsync();

        Assert.Equal([task.Ref()], second.Holds);
        Assert.Empty(third.Holds!);
        Assert.Equal([DeviceRunStatus.Preflight, DeviceRunStatus.Running, DeviceRunStatus.Succeeded],
            _delivered.Where(e => e.Type == CallbackTypes.DeviceStatus).Select(e => e.Status!));
        Assert.Equal(8, _delivered.Count(e => e.Type == CallbackTypes.Step));
        var upload = Assert.Single(_uploads);
        Assert.Equal(FakeDeviceAdapter.Png, upload.Body);
        Assert.Contains("step_id=shot", upload.Query, StringComparison.Ordinal);
        Assert.Equal(0, _services.GetRequiredService<IOutbox>().PendingCount);
    }
}
