using Harness.Agent.Execution;
using Harness.Agent.Listener;
using Harness.Agent.Tests.Fakes;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Runs;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static Harness.Agent.Tests.Fakes.TestTasks;

namespace Harness.Agent.Tests.Execution;

public sealed class DeviceSchedulerTests : IDisposable
{
    private static readonly Guid RunA = Guid.Parse("0192f0a0-0000-7000-8000-00000000000a");
    private static readonly Guid RunB = Guid.Parse("0192f0a0-0000-7000-8000-00000000000b");

    private readonly FakeTimeProvider _time = new(Start);
    private readonly ControlledRunner _runner = new();
    private readonly RecordingOutbox _outbox = new();
    private readonly AgentStatus _status = new();
    private readonly AgentOptions _options = new() { Name = "PC-01", Devices = { QuarantineAfterFailures = 2 } };
    private readonly DeviceHealth _health;
    private DeviceScheduler? _scheduler;

    public DeviceSchedulerTests() => _health = new DeviceHealth(Options.Create(_options), NullLogger<DeviceHealth>.Instance);

    private DeviceScheduler Create(int maxConcurrency)
    {
        _options.Devices.MaxConcurrency = maxConcurrency;
        return _scheduler = new DeviceScheduler(_runner, _health, _outbox, _status, Options.Create(_options), _time, NullLogger<DeviceScheduler>.Instance);
    }

    public void Dispose() => _scheduler?.Dispose();

    [Fact]
    public async Task TasksOfOneDevice_RunOneAtATime_InArrivalOrder()
    {
        var scheduler = Create(maxConcurrency: 5);
        var first = Task("dev-1", runId: RunA);
        var second = Task("dev-1", runId: RunB);

        await scheduler.SubmitAsync([first, second], default);

        Assert.Equal(RunA, (await _runner.NextStartedAsync()).RunId);
        Assert.True(await _runner.NothingStartsAsync(), "the device lock let a second task in");
        Assert.Equal(2, scheduler.Held.Count);
        _runner.Finish(first);
        Assert.Equal(RunB, (await _runner.NextStartedAsync()).RunId);
        Assert.Equal(1, _runner.MaxParallel);
    }

    [Fact]
    public async Task DevicesWithQueuedWork_TakeTurns()
    {
        var scheduler = Create(maxConcurrency: 1);
        DeviceTask[] tasks = [Task("A", runId: RunA), Task("A", runId: RunB), Task("B", runId: RunA), Task("C", runId: RunA)];

        await scheduler.SubmitAsync(tasks, default);
        var order = new List<string>();
        for (var i = 0; i < tasks.Length; i++)
        {
            var started = await _runner.NextStartedAsync();
            order.Add($"{started.DeviceId}{(started.RunId == RunA ? 1 : 2)}");
            _runner.Finish(started);
        }

        Assert.Equal(["A1", "B1", "C1", "A2"], order);
    }

    [Fact]
    public async Task MaxConcurrency_CapsRunningTasks_AndAFreedSlotIsFilledAtOnce()
    {
        var scheduler = Create(maxConcurrency: 2);
        DeviceTask[] tasks = [Task("d1"), Task("d2"), Task("d3"), Task("d4")];

        await scheduler.SubmitAsync(tasks, default);
        var a = await _runner.NextStartedAsync();
        await _runner.NextStartedAsync();

        Assert.True(await _runner.NothingStartsAsync());
        Assert.Equal(2, scheduler.Running);
        Assert.Equal(2, _status.CurrentLoad);
        Assert.Equal(0, scheduler.FreeSlots);
        _runner.Finish(a);
        Assert.Equal("d3", (await _runner.NextStartedAsync()).DeviceId);
        Assert.True(await scheduler.SlotFreed.WaitAsync(TimeSpan.Zero, TimeProvider.System, default));
        Assert.Equal(2, _runner.MaxParallel);
    }

    [Fact]
    public async Task RunConcurrencyOne_RunsThatRunsDevicesStrictlyOneAfterAnother_WhileOtherRunsProceed()
    {
        var scheduler = Create(maxConcurrency: 10);
        DeviceTask[] sequential = [Task("d1", runId: RunA, runConcurrency: 1), Task("d2", runId: RunA, runConcurrency: 1), Task("d3", runId: RunA, runConcurrency: 1)];

        await scheduler.SubmitAsync([.. sequential, Task("d4", runId: RunB)], default);
        var started = new[] { await _runner.NextStartedAsync(), await _runner.NextStartedAsync() };

        Assert.Equal(["d1", "d4"], started.Select(t => t.DeviceId).Order());
        Assert.True(await _runner.NothingStartsAsync(), "run A has concurrency 1");
        Assert.Equal(6, scheduler.FreeSlots);
        _runner.Finish(sequential[0]);
        Assert.Equal("d2", (await _runner.NextStartedAsync()).DeviceId);
        Assert.True(await _runner.NothingStartsAsync());
        _runner.Finish(sequential[1]);
        Assert.Equal("d3", (await _runner.NextStartedAsync()).DeviceId);
    }

    [Fact]
    public async Task Cancel_DropsAQueuedTaskWithACancelledReport_AndStopsARunningOne()
    {
        var scheduler = Create(maxConcurrency: 1);
        var running = Task("d1");
        var queued = Task("d2");
        await scheduler.SubmitAsync([running, queued], default);
        await _runner.NextStartedAsync();

        Assert.True(await scheduler.CancelAsync(queued.Ref(), default));
        Assert.Equal([DeviceRunStatus.Cancelled], _outbox.Statuses("d2"));
        Assert.DoesNotContain(queued.Ref(), scheduler.Held);

        Assert.True(await scheduler.CancelAsync(running.Ref(), default));
        await Waits.UntilAsync(() => scheduler.Held.Count == 0);
        Assert.Equal(["d1:cancelled"], _runner.Ended);
        Assert.True(await _runner.NothingStartsAsync());
        Assert.False(await scheduler.CancelAsync(running.Ref(), default));
    }

    [Fact]
    public async Task FinishedTask_StaysHeldUntilItsTerminalReportIsDelivered()
    {
        var scheduler = Create(maxConcurrency: 2);
        var task = Task("d1");
        _outbox.HoldEverything = true;
        await scheduler.SubmitAsync([task], default);
        await _runner.NextStartedAsync();

        _runner.Finish(task);
        await Waits.UntilAsync(() => scheduler.Running == 0);

        Assert.Equal([task.Ref()], scheduler.Held);
        Assert.Equal(2, scheduler.FreeSlots);
        _outbox.HoldEverything = false;
        Assert.Empty(scheduler.Held);
    }

    [Fact]
    public async Task AfterARestart_TasksWhoseFinalReportIsStillQueued_AreHeldUntilItIsDelivered()
    {
        var finished = Task("d1").Ref();
        _outbox.Restored.Add((finished, "final-1"));
        _outbox.Undelivered["final-1"] = true;
        var scheduler = Create(maxConcurrency: 2);

        await scheduler.StartAsync(default);

        Assert.Equal([finished], scheduler.Held);
        Assert.Equal(2, scheduler.FreeSlots);
        _outbox.Undelivered.Clear();
        Assert.Empty(scheduler.Held);
    }

    [Fact]
    public async Task DuplicateTask_IsIgnored()
    {
        var scheduler = Create(maxConcurrency: 2);
        var task = Task("d1");

        await scheduler.SubmitAsync([task, task], default);
        await scheduler.SubmitAsync([task], default);

        await _runner.NextStartedAsync();
        Assert.True(await _runner.NothingStartsAsync());
        Assert.Single(scheduler.Held);
    }

    [Fact]
    public async Task QuarantinedDevice_HasItsTaskFailedAtOnce_WithoutRunningIt()
    {
        var scheduler = Create(maxConcurrency: 2);
        _health.RecordFailure("d1", "ping timed out");
        _health.RecordFailure("d1", "ping timed out");
        var task = Task("d1");

        await scheduler.SubmitAsync([task], default);

        Assert.True(await _runner.NothingStartsAsync());
        var report = Assert.Single(_outbox.Events);
        Assert.Equal((DeviceRunStatus.Failed, FailureReasons.Quarantined), (report.Status, report.FailureReason));
        _health.RecordSuccess("d1");
        Assert.False(_health.IsQuarantined("d1"));
    }

    [Fact]
    public async Task Stop_WithoutDrainTime_StopsRunningTasks_AndTakesNoMoreWork()
    {
        _options.Devices.ShutdownDrainSec = 0;
        var scheduler = Create(maxConcurrency: 1);
        await scheduler.SubmitAsync([Task("d1"), Task("d2")], default);
        await _runner.NextStartedAsync();

        await scheduler.StopAsync(default);
        await scheduler.SubmitAsync([Task("d3")], default);

        Assert.Equal(["d1:shutdown"], _runner.Ended);
        Assert.True(await _runner.NothingStartsAsync());
        Assert.Equal(0, scheduler.FreeSlots);
        Assert.Equal(0, _status.CurrentLoad);
        Assert.Empty(_outbox.Events);
    }

    [Fact]
    public async Task TakeQueued_ReturnsUnstartedTasks_AndLeavesRunningOnesHeld()
    {
        var scheduler = Create(maxConcurrency: 1);
        await scheduler.SubmitAsync([Task("d1"), Task("d2"), Task("d3")], default);
        await _runner.NextStartedAsync();

        var unstarted = scheduler.TakeQueued();

        Assert.Equal(["d2", "d3"], unstarted.Select(t => t.DeviceId).Order());
        Assert.Equal(["d1"], scheduler.Held.Select(t => t.DeviceId));
        Assert.Equal(0, scheduler.FreeSlots);
        Assert.Empty(scheduler.TakeQueued());
    }

    [Fact]
    public async Task Stop_WithDrainTime_StopsTasksStillRunningWhenItEnds()
    {
        _options.Devices.ShutdownDrainSec = 20;
        var scheduler = Create(maxConcurrency: 1);
        await scheduler.SubmitAsync([Task("d1")], default);
        await _runner.NextStartedAsync();

        var stop = scheduler.StopAsync(default);
        Assert.False(stop.IsCompleted);
        Assert.Empty(_runner.Ended);
        _time.Advance(TimeSpan.FromSeconds(20));
        await stop;

        Assert.Equal(["d1:shutdown"], _runner.Ended);
    }
}
