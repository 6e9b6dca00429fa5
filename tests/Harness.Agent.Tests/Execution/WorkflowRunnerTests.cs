using Harness.Agent.Execution;
using Harness.Agent.Inventory;
using Harness.Agent.Tests.Fakes;
using Harness.Agent.Tests.Listener;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Runs;
using Harness.Contracts.Workflows;
using Harness.Runtimes.Devices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static Harness.Agent.Tests.Fakes.TestTasks;

namespace Harness.Agent.Tests.Execution;

public sealed class WorkflowRunnerTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(Start);
    private readonly FakeDeviceAdapter _adapter = new() { Devices = [FakeDeviceAdapter.Ready("dev-1")] };
    private readonly RecordingOutbox _outbox = new();
    private readonly CapturingLoggerProvider _logs = new();
    private readonly ILoggerFactory _loggers;
    private readonly AgentOptions _options = new()
    {
        Name = "PC-01",
        Devices = { GraceWaitMs = 3000, PreflightTimeoutMs = 2000, EmulatorBootTimeoutMs = 5000, QuarantineAfterFailures = 3 },
    };
    private readonly DeviceHealth _health;

    public WorkflowRunnerTests()
    {
        _loggers = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Debug));
        _health = new DeviceHealth(Options.Create(_options), _loggers.CreateLogger<DeviceHealth>());
    }

    public void Dispose() => _loggers.Dispose();

    private Task<string?> RunAsync(DeviceTask task, CancellationToken cancel = default, CancellationToken shutdown = default)
    {
        var runner = new WorkflowRunner(_adapter, new DeviceDirectory(_adapter, _time), _health, _outbox, Options.Create(_options), _time,
            _loggers.CreateLogger<WorkflowRunner>());
        return ClockPump.RunAsync(_time, runner.RunAsync(task, cancel, shutdown));
    }

    private CallbackEvent Final => _outbox.Events.Last(e => e.Type == CallbackTypes.DeviceStatus);

    [Fact]
    public async Task HappyPath_ReportsPreflightRunningSucceeded_AndEveryStepStartAndEnd()
    {
        var task = Task("dev-1", [
            Step("pre", StepTypes.Preflight),
            Step("open", StepTypes.LaunchApp, new { package = "com.example.app", activity = ".Main" }),
            Step("url", StepTypes.OpenUrl, new { url = "https://example.com" }),
            Step("tap", StepTypes.Tap, new { x = 10, y = 20 }),
            Step("swipe", StepTypes.Swipe, new { x1 = 1, y1 = 2, x2 = 3, y2 = 4 }),
            Step("user", StepTypes.InputText, new { text = "alice" }),
            Step("home", StepTypes.KeyEvent, new { key = "HOME" }),
            Step("pause", StepTypes.Wait, new { ms = 500 }),
            Step("sh", StepTypes.Shell, new { command = "getprop ro.build.version.release" }),
            Step("shot", StepTypes.Screenshot, new { name = "home" }),
            Step("up", StepTypes.Upload),
            Step("done", StepTypes.Report)]);
        _adapter.ShellOutput = "15";

        var finalId = await RunAsync(task);

        Assert.Equal([DeviceRunStatus.Preflight, DeviceRunStatus.Running, DeviceRunStatus.Succeeded], _outbox.Statuses("dev-1"));
        Assert.Equal(Final.EventId, finalId);
        var steps = _outbox.Steps("dev-1");
        Assert.Equal(24, steps.Count);
        Assert.All(steps.Chunk(2), pair =>
        {
            Assert.Equal(StepStatus.Running, pair[0].Status);
            Assert.Equal(StepStatus.Succeeded, pair[1].Status);
            Assert.Equal(pair[0].StepId, pair[1].StepId);
            Assert.Equal(1, pair[1].Attempt);
        });
        Assert.Equal("15", steps.Single(s => s.StepId == "sh" && s.Status == StepStatus.Succeeded).Output);
        Assert.True(steps.Single(s => s.StepId == "pause" && s.Status == StepStatus.Succeeded).DurationMs >= 500);
        Assert.Contains("launch dev-1 com.example.app/.Main", _adapter.Calls);
        Assert.Contains("swipe dev-1 1,2,3,4,300", _adapter.Calls);
        Assert.Contains("text dev-1 alice", _adapter.Calls);
        var artifact = Assert.Single(_outbox.Artifacts);
        Assert.Equal(FakeDeviceAdapter.Png, artifact.Content);
        Assert.Equal("image/png", artifact.ContentType);
        Assert.Equal(3000, artifact.UploadTimeoutMs);
        Assert.Equal("shot", artifact.Query[ArtifactUpload.StepId]);
        Assert.Equal("screenshot", artifact.Query[ArtifactUpload.Kind]);
        Assert.Equal(task.RunId.ToString(), artifact.Query[ArtifactUpload.RunId]);
        Assert.Equal(_outbox.Events.Count, _outbox.Events.Select(e => e.EventId).Distinct().Count());
        Assert.All(_outbox.Events, e => Assert.Equal((task.RunId, "dev-1", 1), (e.RunId!.Value, e.DeviceId!, e.Attempt!.Value)));
        Assert.Contains(_logs.Entries, l => l.Message.StartsWith($"[run_id={task.RunId} node_id=PC-01 device_id=dev-1] Task started", StringComparison.Ordinal));
        Assert.All(_logs.Entries.Where(l => l.Message.Contains("Step", StringComparison.Ordinal)),
            l => Assert.StartsWith($"[run_id={task.RunId} node_id=PC-01 device_id=dev-1]", l.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task FailingStep_WithOnErrorContinue_IsRecordedAndTheTaskStillSucceeds()
    {
        _adapter.Hook = (op, _, _) => op == "tap" ? throw new DeviceException(DeviceErrorKind.Failed, "input rejected") : System.Threading.Tasks.Task.CompletedTask;

        await RunAsync(Task("dev-1", [Step("tap", StepTypes.Tap, new { x = 1, y = 1 }, onError: OnError.Continue), Step("home", StepTypes.KeyEvent, new { key = "3" })]));

        Assert.Equal(DeviceRunStatus.Succeeded, Final.Status);
        var tap = _outbox.Steps("dev-1").Single(s => s.StepId == "tap" && s.Status != StepStatus.Running);
        Assert.Equal(StepStatus.Failed, tap.Status);
        Assert.Equal("input rejected", tap.Error);
        Assert.Contains("key dev-1 3", _adapter.Calls);
    }

    [Fact]
    public async Task FailingStep_WithOnErrorFail_FailsTheTaskAsStepFailed_AndSkipsTheRest()
    {
        _adapter.Hook = (op, _, _) => op == "tap" ? throw new DeviceException(DeviceErrorKind.Failed, "input rejected") : System.Threading.Tasks.Task.CompletedTask;

        await RunAsync(Task("dev-1", [Step("tap", StepTypes.Tap, new { x = 1, y = 1 }), Step("home", StepTypes.KeyEvent, new { key = "3" })]));

        Assert.Equal((DeviceRunStatus.Failed, FailureReasons.StepFailed), (Final.Status, Final.FailureReason));
        Assert.Contains("step tap: input rejected", Final.Message, StringComparison.Ordinal);
        Assert.Equal(0, _adapter.Count("key"));
    }

    [Fact]
    public async Task Retries_RerunAFailedStep_WithIncreasingAttemptNumbers()
    {
        var taps = 0;
        _adapter.Hook = (op, _, _) => op == "tap" && ++taps < 3 ? throw new DeviceException(DeviceErrorKind.Failed, $"flaky {taps}") : System.Threading.Tasks.Task.CompletedTask;

        await RunAsync(Task("dev-1", [Step("tap", StepTypes.Tap, new { x = 1, y = 1 }, retries: 2)]));

        Assert.Equal(DeviceRunStatus.Succeeded, Final.Status);
        var ends = _outbox.Steps("dev-1").Where(s => s.Status != StepStatus.Running).ToList();
        Assert.Equal([(1, StepStatus.Failed), (2, StepStatus.Failed), (3, StepStatus.Succeeded)], ends.Select(s => (s.Attempt!.Value, s.Status!)));
    }

    [Fact]
    public async Task RetriesSpent_FailTheTask()
    {
        _adapter.Hook = (op, _, _) => op == "tap" ? throw new DeviceException(DeviceErrorKind.Failed, "nope") : System.Threading.Tasks.Task.CompletedTask;

        await RunAsync(Task("dev-1", [Step("tap", StepTypes.Tap, new { x = 1, y = 1 }, retries: 1)]));

        Assert.Equal(FailureReasons.StepFailed, Final.FailureReason);
        Assert.Equal(2, _adapter.Count("tap"));
    }

    [Fact]
    public async Task StepTimeout_OnADeviceThatStillAnswers_FailsAsStepTimeout_AfterTheStepBudget()
    {
        _adapter.Hook = (op, _, ct) => op == "tap" ? System.Threading.Tasks.Task.Delay(Timeout.Infinite, ct) : System.Threading.Tasks.Task.CompletedTask;

        await RunAsync(Task("dev-1", [Step("tap", StepTypes.Tap, new { x = 1, y = 1 }, timeoutMs: 1500)]));

        Assert.Equal((DeviceRunStatus.Failed, FailureReasons.StepTimeout), (Final.Status, Final.FailureReason));
        var end = _outbox.Steps("dev-1").Last();
        Assert.Equal(StepStatus.TimedOut, end.Status);
        Assert.InRange(end.DurationMs!.Value, 1500, 2500); // the pump keeps time flowing while continuations run
        Assert.DoesNotContain(DeviceRunStatus.Waiting, _outbox.Statuses("dev-1"));
    }

    [Fact]
    public async Task UnavailableDevice_ThatRecoversWithinGrace_ReportsWaitingThenRunning_AndRetriesTheStep()
    {
        var taps = 0;
        var deadPings = 0;
        _adapter.Hook = (op, _, _) => op switch
        {
            "tap" when ++taps == 1 => throw new DeviceException(DeviceErrorKind.Unavailable, "device offline"),
            // The preflight ping answers; then two pings in the grace wait do not.
            "ping" when taps == 1 && ++deadPings <= 2 => throw new DeviceException(DeviceErrorKind.Unavailable, "no answer"),
            _ => System.Threading.Tasks.Task.CompletedTask,
        };

        await RunAsync(Task("dev-1", [Step("tap", StepTypes.Tap, new { x = 1, y = 1 })]));

        Assert.Equal([DeviceRunStatus.Preflight, DeviceRunStatus.Running, DeviceRunStatus.Waiting, DeviceRunStatus.Running, DeviceRunStatus.Succeeded],
            _outbox.Statuses("dev-1"));
        Assert.Equal(2, taps);
        var statuses = _outbox.Events.Where(e => e.Type == CallbackTypes.DeviceStatus).ToList();
        Assert.InRange(statuses[3].At!.Value - statuses[2].At!.Value, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task UnavailableDevice_ThatNeverRecovers_FailsAsDeviceUnresponsive_AfterTheGraceWait()
    {
        var started = false;
        _adapter.Hook = (op, _, _) => op switch
        {
            "tap" => throw new DeviceException(DeviceErrorKind.Unavailable, "device offline"),
            "ping" when started => throw new DeviceException(DeviceErrorKind.Unavailable, "no answer"),
            "ping" => MarkStarted(),
            _ => System.Threading.Tasks.Task.CompletedTask,
        };
        Task MarkStarted()
        {
            started = true;
            return System.Threading.Tasks.Task.CompletedTask;
        }

        await RunAsync(Task("dev-1", [Step("tap", StepTypes.Tap, new { x = 1, y = 1 }, onError: OnError.Continue), Step("home", StepTypes.KeyEvent, new { key = "3" })]));

        Assert.Equal((DeviceRunStatus.Failed, FailureReasons.DeviceUnresponsive), (Final.Status, Final.FailureReason));
        var waiting = _outbox.Events.Single(e => e.Status == DeviceRunStatus.Waiting);
        Assert.InRange(Final.At!.Value - waiting.At!.Value, TimeSpan.FromMilliseconds(3000), TimeSpan.FromMilliseconds(4000));
        Assert.Equal(0, _adapter.Count("key")); // on_error=continue does not apply to a dead device
        Assert.Equal(1, _health.FailuresInARow("dev-1"));
    }

    [Fact]
    public async Task StepTimeout_OnADeviceThatStoppedAnswering_GoesThroughTheGraceWait()
    {
        _adapter.Hook = (op, _, ct) => op switch
        {
            "tap" => System.Threading.Tasks.Task.Delay(Timeout.Infinite, ct),
            "ping" when _adapter.Count("tap") > 0 => throw new DeviceException(DeviceErrorKind.Unavailable, "no answer"),
            _ => System.Threading.Tasks.Task.CompletedTask,
        };

        await RunAsync(Task("dev-1", [Step("tap", StepTypes.Tap, new { x = 1, y = 1 }, timeoutMs: 1000)]));

        Assert.Contains(DeviceRunStatus.Waiting, _outbox.Statuses("dev-1"));
        Assert.Equal(FailureReasons.DeviceUnresponsive, Final.FailureReason);
    }

    [Fact]
    public async Task PreflightThatNeverAnswers_WaitsTheGracePeriod_ThenFailsAsUnresponsive_AndCountsTowardsQuarantine()
    {
        _adapter.Hook = (op, _, _) => op == "ping" ? throw new DeviceException(DeviceErrorKind.Unavailable, "adb: device offline") : System.Threading.Tasks.Task.CompletedTask;

        await RunAsync(Task("dev-1", [Step("tap", StepTypes.Tap, new { x = 1, y = 1 })]));

        Assert.Equal([DeviceRunStatus.Preflight, DeviceRunStatus.Waiting, DeviceRunStatus.Failed], _outbox.Statuses("dev-1"));
        Assert.Equal(FailureReasons.DeviceUnresponsive, Final.FailureReason);
        Assert.Contains("adb: device offline", Final.Message, StringComparison.Ordinal);
        // The 2 s preflight budget, then the 3 s grace wait.
        Assert.InRange(Final.At!.Value - Start, TimeSpan.FromMilliseconds(5000), TimeSpan.FromMilliseconds(6000));
        Assert.Empty(_outbox.Steps("dev-1"));
        Assert.Equal(2, _health.FailuresInARow("dev-1"));
    }

    [Fact]
    public async Task PreflightThatRecoversInTheGraceWait_RunsTheTask()
    {
        var pings = 0;
        _adapter.Hook = (op, _, _) => op == "ping" && Interlocked.Increment(ref pings) <= 4
            ? throw new DeviceException(DeviceErrorKind.Unavailable, "adb: device offline")
            : System.Threading.Tasks.Task.CompletedTask;

        await RunAsync(Task("dev-1", [Step("tap", StepTypes.Tap, new { x = 1, y = 1 })]));

        Assert.Contains(DeviceRunStatus.Waiting, _outbox.Statuses("dev-1"));
        Assert.Equal(DeviceRunStatus.Succeeded, Final.Status);
    }

    [Fact]
    public async Task OfflineEmulator_IsStartedByTheEmulatorGate_ThenTheTaskRuns()
    {
        _adapter.Devices = [FakeDeviceAdapter.Ready("emu-1", emulator: true) with { State = Contracts.Nodes.DeviceState.Offline }];
        var booted = false;
        _adapter.Hook = (op, _, _) =>
        {
            booted |= op == "emulator-start";
            return op == "ping" && !booted ? throw new DeviceException(DeviceErrorKind.Unavailable, "not running") : System.Threading.Tasks.Task.CompletedTask;
        };

        await RunAsync(Task("emu-1"));

        Assert.Equal(DeviceRunStatus.Succeeded, Final.Status);
        Assert.Equal(1, _adapter.Count("emulator-start"));
    }

    [Fact]
    public async Task BrokenEmulator_ThatCannotBeRestarted_FailsAsEmulatorUnhealthy()
    {
        _adapter.Devices = [FakeDeviceAdapter.Ready("emu-1", emulator: true) with { State = Contracts.Nodes.DeviceState.Error }];
        _adapter.Hook = (op, _, _) => op == "emulator-restart" ? throw new DeviceException(DeviceErrorKind.Failed, "AVD is corrupt") : System.Threading.Tasks.Task.CompletedTask;

        await RunAsync(Task("emu-1"));

        Assert.Equal((DeviceRunStatus.Failed, FailureReasons.EmulatorUnhealthy), (Final.Status, Final.FailureReason));
        Assert.Contains("AVD is corrupt", Final.Message, StringComparison.Ordinal);
        Assert.Equal(0, _adapter.Count("ping"));
    }

    [Fact]
    public async Task Deadline_StopsARunningTaskAsTimedOut()
    {
        await RunAsync(Task("dev-1", [Step("pause", StepTypes.Wait, new { ms = 60_000 }, timeoutMs: 120_000)], deadline: TimeSpan.FromSeconds(5)), default);

        Assert.Equal((DeviceRunStatus.TimedOut, FailureReasons.TaskTimeout), (Final.Status, Final.FailureReason));
        Assert.InRange(Final.At!.Value - Start, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(6));
    }

    [Fact]
    public async Task ServerCancel_ReportsCancelled()
    {
        using var cancel = new CancellationTokenSource();
        _adapter.Hook = async (op, _, ct) =>
        {
            if (op == "tap")
            {
                await cancel.CancelAsync();
                await System.Threading.Tasks.Task.Delay(Timeout.Infinite, ct);
            }
        };

        var finalId = await RunAsync(Task("dev-1", [Step("tap", StepTypes.Tap, new { x = 1, y = 1 })]), cancel.Token);

        Assert.Equal((DeviceRunStatus.Cancelled, FailureReasons.Cancelled), (Final.Status, Final.FailureReason));
        Assert.Equal(Final.EventId, finalId);
    }

    [Fact]
    public async Task Shutdown_ReportsTheTaskFailedAsAgentShutdown()
    {
        using var shutdown = new CancellationTokenSource();
        _adapter.Hook = async (op, _, ct) =>
        {
            if (op == "tap")
            {
                await shutdown.CancelAsync();
                await System.Threading.Tasks.Task.Delay(Timeout.Infinite, ct);
            }
        };

        var finalId = await RunAsync(Task("dev-1", [Step("tap", StepTypes.Tap, new { x = 1, y = 1 })]), shutdown: shutdown.Token);

        Assert.Equal((DeviceRunStatus.Failed, FailureReasons.AgentShutdown), (Final.Status, Final.FailureReason));
        Assert.Equal(Final.EventId, finalId);
        Assert.Equal([DeviceRunStatus.Preflight, DeviceRunStatus.Running, DeviceRunStatus.Failed], _outbox.Statuses("dev-1"));
        Assert.Equal([StepStatus.Running], _outbox.Steps("dev-1").Select(s => s.Status));
    }

    [Fact]
    public async Task UploadWithoutScreenshot_FailsTheStep()
    {
        await RunAsync(Task("dev-1", [Step("up", StepTypes.Upload)]));

        Assert.Equal(FailureReasons.StepFailed, Final.FailureReason);
        Assert.Contains("no screenshot", _outbox.Steps("dev-1").Last().Error, StringComparison.Ordinal);
        Assert.Empty(_outbox.Artifacts);
    }

    [Fact]
    public async Task MissingParam_FailsWithItsPath_WithoutRetrying()
    {
        await RunAsync(Task("dev-1", [Step("open", StepTypes.LaunchApp, new { activity = ".Main" }, retries: 3)]));

        Assert.Equal("step open: params.package: required", Final.Message);
        Assert.Equal(2, _outbox.Steps("dev-1").Count);
        Assert.Equal(0, _adapter.Count("launch"));
    }

    [Fact]
    public void Excerpt_KeepsAtMost4KiBOfUtf8()
    {
        var excerpt = WorkflowRunner.Excerpt(new string('가', 5000));

        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(excerpt), 4000, WorkflowRunner.OutputLimitBytes);
        Assert.EndsWith("[truncated]", excerpt, StringComparison.Ordinal);
        Assert.Equal("short", WorkflowRunner.Excerpt("short"));
    }

    [Fact]
    public async Task Reboot_EndsWhenTheDeviceAnswersAgain()
    {
        var deadPings = 0;
        _adapter.Hook = (op, _, _) => op == "ping" && _adapter.Count("reboot") > 0 && ++deadPings <= 2
            ? throw new DeviceException(DeviceErrorKind.Unavailable, "rebooting")
            : System.Threading.Tasks.Task.CompletedTask;

        await RunAsync(Task("dev-1", [Step("boot", StepTypes.Reboot, timeoutMs: 10_000)]));

        Assert.Equal(DeviceRunStatus.Succeeded, Final.Status);
        Assert.InRange(_outbox.Steps("dev-1").Last().DurationMs!.Value, 2000, 4000);
    }

    [Fact]
    public async Task ContainerStep_IsNotRunOnADevice()
    {
        await RunAsync(Task("dev-1", [Step("x", StepTypes.Exec, retries: 2)]));

        Assert.Equal(FailureReasons.StepFailed, Final.FailureReason);
        Assert.Contains("'exec' is not a device step", Final.Message, StringComparison.Ordinal);
        Assert.Equal(2, _outbox.Steps("dev-1").Count);
    }
}
