using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Harness.Agent.Execution;
using Harness.Agent.Listener;
using Harness.Agent.Tests.Fakes;
using Harness.Client;
using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using static Harness.Agent.Tests.Fakes.TestTasks;

namespace Harness.Agent.Tests.Listener;

/// <summary>The pull loop against a scripted server: each pull waits for the test to answer it.</summary>
public sealed class PullLoopTests : IAsyncLifetime
{
    private readonly SignallingTimeProvider _time = new();
    private readonly ControlledRunner _runner = new();
    private readonly RecordingOutbox _outbox = new();
    private readonly FakeDeviceAdapter _adapter = new() { Devices = [FakeDeviceAdapter.Ready("d1"), FakeDeviceAdapter.Ready("d2")] };
    private readonly Channel<Func<HttpResponseMessage>> _answers = Channel.CreateUnbounded<Func<HttpResponseMessage>>();
    private readonly RecordingHandler _handler;
    private readonly ServiceProvider _services;
    private readonly PullLoop _loop;

    public PullLoopTests()
    {
        _handler = new RecordingHandler(async (_, ct) => (await _answers.Reader.ReadAsync(ct))());
        _services = Build(maxConcurrency: 2);
        _loop = _services.GetRequiredService<PullLoop>();
    }

    private ServiceProvider Build(int maxConcurrency)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:Name"] = "PC-01",
            ["Agent:ApiKey"] = "hak_0011223344556677.secret",
            ["Agent:StateDir"] = Path.Combine(Path.GetTempPath(), $"harness-agent-{Guid.NewGuid():N}"),
            ["Agent:Devices:Adapter"] = "simulator",
            ["Agent:Devices:MaxConcurrency"] = maxConcurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Agent:Devices:PullWaitMs"] = "20000",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Debug));
        services.AddSingleton<TimeProvider>(_time);
        services.AddHarnessAgent(configuration);
        services.AddDeviceAdapter(_ => _adapter);
        services.Replace(ServiceDescriptor.Singleton<ITaskRunner>(_runner));
        services.Replace(ServiceDescriptor.Singleton<IOutbox>(_outbox));
        services.Replace(ServiceDescriptor.Singleton(new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8), new Random(5))));
        services.Replace(ServiceDescriptor.Singleton(new HarnessNodeClient(new HttpClient(_handler) { BaseAddress = new Uri("http://127.0.0.1:5080") })));
        return services.BuildServiceProvider();
    }

    public System.Threading.Tasks.Task InitializeAsync() => System.Threading.Tasks.Task.CompletedTask;

    // xUnit v2 calls IAsyncLifetime.DisposeAsync on a test class, never IAsyncDisposable.DisposeAsync.
    public async System.Threading.Tasks.Task DisposeAsync()
    {
        await _loop.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
    }

    private void Answer(IReadOnlyList<DeviceTask>? tasks = null, IReadOnlyList<TaskRef>? cancel = null, IReadOnlyList<ScanOrder>? scans = null, int leaseSec = 30) =>
        _answers.Writer.TryWrite(() => RecordingHandler.Json(JsonSerializer.Serialize(
            new PullResponse(tasks ?? [], cancel ?? [], scans ?? [], leaseSec, _time.GetUtcNow()), HarnessJsonContext.Default.PullResponse)));

    private async Task<PullRequest> NextPullAsync()
    {
        var request = await _handler.NextAsync();
        Assert.Equal(Routes.NodesPull, request.Path);
        Assert.Equal("hak_0011223344556677.secret", request.Bearer);
        return JsonSerializer.Deserialize(request.Body, HarnessJsonContext.Default.PullRequest)!;
    }

    [Fact]
    public async Task EveryPull_AsksForFreeSlots_AndListsEveryHeldTask()
    {
        var t1 = Task("d1");
        await _loop.StartAsync(default);

        var first = await NextPullAsync();
        Answer(tasks: [t1]);
        var second = await NextPullAsync();

        Assert.Equal((2, 20000, 0), (first.FreeSlots, first.WaitMs, first.Holds!.Count));
        Assert.Equal("d1", (await _runner.NextStartedAsync()).DeviceId);
        Assert.Equal(1, second.FreeSlots);
        Assert.Equal(10000, second.WaitMs); // never longer than a third of the 30 s lease
        Assert.Equal([t1.Ref()], second.Holds);
    }

    [Fact]
    public async Task CancelFromTheServer_StopsTheTask_AndItLeavesTheHolds()
    {
        var t1 = Task("d1");
        await _loop.StartAsync(default);
        await NextPullAsync();
        Answer(tasks: [t1]);
        await NextPullAsync();
        await _runner.NextStartedAsync();

        Answer(cancel: [t1.Ref()]);
        await NextPullAsync(); // a cancel is news: the next pull goes at once
        Answer();
        Assert.Equal(TimeSpan.FromSeconds(1), await _time.TimerArmedAsync());
        // The runner stops on its own thread: the pull loop does not wait for it, so neither may the test's clock.
        await Waits.UntilAsync(() => _services.GetRequiredService<DeviceScheduler>().Running == 0);
        _time.Advance(TimeSpan.FromSeconds(1));
        var fourth = await NextPullAsync();

        Assert.Equal(["d1:cancelled"], _runner.Ended);
        Assert.Empty(fourth.Holds!);
        Assert.Equal(2, fourth.FreeSlots);
    }

    [Fact]
    public async Task EmptyAnswerThatCameEarly_IsNotFollowedByAHotLoop()
    {
        await _loop.StartAsync(default);
        await NextPullAsync();

        Answer();

        Assert.Equal(TimeSpan.FromSeconds(1), await _time.TimerArmedAsync());
        _time.Advance(TimeSpan.FromSeconds(1));
        await NextPullAsync();
    }

    [Fact]
    public async Task NoFreeSlot_WaitsForOne_AndPullsTheMomentItFrees()
    {
        var t1 = Task("d1");
        var t2 = Task("d2");
        await _loop.StartAsync(default);
        await NextPullAsync();
        Answer(tasks: [t1, t2]);
        await _runner.NextStartedAsync();
        await _runner.NextStartedAsync();

        Assert.Equal(TimeSpan.FromSeconds(10), await _time.TimerArmedAsync()); // lease renewal at the latest
        Assert.True(await _handler.StaysQuietAsync());
        _runner.Finish(t2);
        var next = await NextPullAsync(); // no clock advance: the freed slot woke the loop

        Assert.Equal(1, next.FreeSlots);
        Assert.Equal([t1.Ref()], next.Holds);
        Assert.Equal(Start, _time.GetUtcNow());
    }

    [Fact]
    public async Task AllSlotsBusy_StillRenewsLeasesEveryThirdOfTheLease()
    {
        DeviceTask[] tasks = [Task("d1"), Task("d2")];
        await _loop.StartAsync(default);
        await NextPullAsync();
        Answer(tasks: tasks, leaseSec: 60);
        Assert.Equal(TimeSpan.FromSeconds(20), await _time.TimerArmedAsync());

        _time.Advance(TimeSpan.FromSeconds(20));
        var renewal = await NextPullAsync();

        Assert.Equal((0, 0), (renewal.FreeSlots, renewal.WaitMs));
        Assert.Equal(["d1", "d2"], renewal.Holds!.Select(h => h.DeviceId).Order());
    }

    [Fact]
    public async Task ServerDown_BacksOffWithJitter_AndKeepsListingHolds()
    {
        var t1 = Task("d1");
        await _loop.StartAsync(default);
        await NextPullAsync();
        Answer(tasks: [t1]);
        await NextPullAsync();
        _answers.Writer.TryWrite(() => RecordingHandler.Problem(HttpStatusCode.ServiceUnavailable, "restarting"));
        var expected = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8), new Random(5)).Next(1);

        Assert.Equal(expected, await _time.TimerArmedAsync());
        _time.Advance(expected);
        var retry = await NextPullAsync();

        Assert.Equal([t1.Ref()], retry.Holds);
        Assert.Equal(1, _loop.ConsecutiveFailures);
    }

    [Fact]
    public async Task Scan_IsAnsweredWithAScanResultEvent()
    {
        var scanId = Guid.Parse("0192f0a0-0000-7000-8000-0000000000cc");
        _services.GetRequiredService<DeviceHealth>().RecordFailure("d2", "x");
        _services.GetRequiredService<DeviceHealth>().RecordFailure("d2", "x");
        _services.GetRequiredService<DeviceHealth>().RecordFailure("d2", "x");
        await _loop.StartAsync(default);
        await NextPullAsync();

        Answer(scans: [new ScanOrder(scanId)]);
        var result = await _outbox.NextAsync(e => e.Type == CallbackTypes.ScanResult);

        Assert.Equal(scanId, result.ScanId);
        Assert.Equal(ScanStatus.Succeeded, result.Status);
        Assert.Equal(["d1", "d2"], result.Devices!.Select(d => d.DeviceId));
        Assert.Equal([false, true], result.Devices!.Select(d => d.Quarantined!.Value));
    }
}
