using Harness.Agent.Inventory;
using Harness.Agent.Listener;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Runs;
using Harness.Runtimes.Devices;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Execution;

/// <summary>
/// Runs one <see cref="DeviceTask"/> on its device (DESIGN.md §4): gate 1 (emulator health),
/// gate 2 (device preflight), then the steps in order with per-step timeout, retries and on_error.
/// A device that stops answering is given <see cref="DevicesOptions.GraceWaitMs"/> to recover
/// (reported as <c>waiting</c>) before the task fails as <c>device_unresponsive</c>. The task's
/// <c>deadline_at</c> is a hard limit (<c>timed_out</c> / <c>task_timeout</c>). Every status and step
/// change goes to the durable outbox.
/// </summary>
public sealed partial class WorkflowRunner(
    IDeviceAdapter adapter,
    DeviceDirectory directory,
    DeviceHealth health,
    IOutbox outbox,
    IOptions<AgentOptions> options,
    TimeProvider time,
    ILogger<WorkflowRunner> logger) : ITaskRunner
{
    /// <summary>How long a listed device state is trusted by the emulator gate.</summary>
    private static readonly TimeSpan DirectoryMaxAge = TimeSpan.FromSeconds(5);

    /// <summary>Pause between pings while waiting for a device.</summary>
    internal TimeSpan PingInterval { get; init; } = TimeSpan.FromSeconds(1);

    private DevicesOptions Devices => options.Value.Devices;

    public async Task<string?> RunAsync(DeviceTask task, CancellationToken cancel, CancellationToken shutdown)
    {
        var ctx = new TaskContext(task, options.Value.Name, string.IsNullOrEmpty(task.RuntimeHandle) ? task.DeviceId : task.RuntimeHandle, shutdown);
        using var scope = logger.BeginScope(new TaskLogScope(task.RunId, ctx.NodeId, task.DeviceId, task.Attempt));
        using var activity = AgentTelemetry.Source.StartActivity("task.run");
        activity?.SetTag("harness.run_id", task.RunId.ToString());
        activity?.SetTag("harness.node_id", ctx.NodeId);
        activity?.SetTag("harness.device_id", task.DeviceId);
        activity?.SetTag("harness.attempt", task.Attempt);
        var left = task.DeadlineAt - time.GetUtcNow();
        using var deadline = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.Zero, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancel, shutdown, deadline.Token);
        LogTaskStarted(logger, ctx.RunId, ctx.NodeId, ctx.DeviceId, task.Workflow.Name, task.Workflow.Steps?.Count ?? 0, task.Attempt);
        TaskResult result;
        try
        {
            result = await ExecuteAsync(ctx, linked.Token);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            // The agent stopped and its drain time ran out: say so now rather than leave the server to
            // wait out the lease. The outbox sender flushes after the scheduler has stopped.
            LogAbandoned(logger, ctx.RunId, ctx.NodeId, ctx.DeviceId);
            result = new(DeviceRunStatus.Failed, FailureReasons.AgentShutdown, "the agent stopped before the task finished");
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            result = new(DeviceRunStatus.Cancelled, FailureReasons.Cancelled, "cancelled by the server");
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            result = new(DeviceRunStatus.TimedOut, FailureReasons.TaskTimeout, $"the task passed its deadline {task.DeadlineAt:O}");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A bug or an adapter throwing something unexpected fails this device, never the agent.
            LogTaskCrashed(logger, ctx.RunId, ctx.NodeId, ctx.DeviceId, e);
            result = new(DeviceRunStatus.Failed, FailureReasons.StepFailed, e.Message);
        }
        var final = TaskEvents.Status(task, result.Status, time.GetUtcNow(), result.FailureReason, result.Message);
        await EmitAsync(final);
        LogTaskEnded(logger, ctx.RunId, ctx.NodeId, ctx.DeviceId, result.Status, result.FailureReason ?? "-", ctx.StepsSucceeded, ctx.StepsFailed);
        return final.EventId;
    }

    private async Task<TaskResult> ExecuteAsync(TaskContext ctx, CancellationToken ct)
    {
        await EmitAsync(TaskEvents.Status(ctx.Task, DeviceRunStatus.Preflight, time.GetUtcNow()));
        if (await EmulatorGateAsync(ctx, ct) is { } emulatorError)
        {
            LogGateFailed(logger, ctx.RunId, ctx.NodeId, ctx.DeviceId, "emulator health", emulatorError);
            return new(DeviceRunStatus.Failed, FailureReasons.EmulatorUnhealthy, emulatorError);
        }
        if (await WaitForPingAsync(ctx.Handle, TimeSpan.FromMilliseconds(Devices.PreflightTimeoutMs), ct) is { } preflightError)
        {
            health.RecordFailure(ctx.DeviceId, preflightError);
            LogGateFailed(logger, ctx.RunId, ctx.NodeId, ctx.DeviceId, "device preflight", preflightError);
            // An unknown device cannot come back; one that is online but silent gets the grace wait (WAIT 15s), then fails.
            if (preflightError.StartsWith(NotFoundPrefix, StringComparison.Ordinal))
            {
                return new(DeviceRunStatus.Failed, FailureReasons.PreflightFailed, preflightError);
            }
            if (!await GraceWaitAsync(ctx, ct))
            {
                return new(DeviceRunStatus.Failed, FailureReasons.DeviceUnresponsive,
                    $"preflight: {preflightError}; no answer within the {Devices.GraceWaitMs} ms grace wait either");
            }
        }
        health.RecordSuccess(ctx.DeviceId);
        await EmitAsync(TaskEvents.Status(ctx.Task, DeviceRunStatus.Running, time.GetUtcNow()));
        foreach (var step in ctx.Task.Workflow.Steps ?? [])
        {
            var outcome = await RunStepAsync(ctx, step, ct);
            if (outcome.Status == DeviceRunStatus.Succeeded)
            {
                ctx.StepsSucceeded++;
                continue;
            }
            ctx.StepsFailed++;
            if (outcome.FailureReason != FailureReasons.DeviceUnresponsive
                && string.Equals(step.OnError, Contracts.Workflows.OnError.Continue, StringComparison.OrdinalIgnoreCase))
            {
                LogContinuing(logger, ctx.RunId, ctx.NodeId, ctx.DeviceId, step.Id ?? "?");
                continue;
            }
            return outcome;
        }
        return new(DeviceRunStatus.Succeeded);
    }

    /// <summary>Gate 1: an emulator that is not ready is started or restarted and given time to answer.</summary>
    private async Task<string?> EmulatorGateAsync(TaskContext ctx, CancellationToken ct)
    {
        DeviceInfo? info;
        try
        {
            info = await directory.FindAsync(ctx.DeviceId, DirectoryMaxAge, ct);
        }
        catch (DeviceException)
        {
            return null; // The backend cannot list devices: gate 2's ping will tell.
        }
        if (info is not { IsEmulator: true } || info.State == Contracts.Nodes.DeviceState.Ready)
        {
            return null;
        }
        LogEmulatorStarting(logger, ctx.RunId, ctx.NodeId, ctx.DeviceId, info.State.ToString());
        try
        {
            if (info.State == Contracts.Nodes.DeviceState.Offline)
            {
                await adapter.EmulatorStartAsync(ctx.Handle, ct);
            }
            else
            {
                await adapter.EmulatorRestartAsync(ctx.Handle, ct);
            }
        }
        catch (DeviceException e)
        {
            return $"emulator was {info.State} and could not be started: {e.Message}";
        }
        return await WaitForPingAsync(ctx.Handle, TimeSpan.FromMilliseconds(Devices.EmulatorBootTimeoutMs), ct) is { } error
            ? $"emulator was {info.State} and did not answer within {Devices.EmulatorBootTimeoutMs} ms of a (re)start: {error}"
            : null;
    }

    /// <summary>Pings until the device answers or <paramref name="budget"/> is spent; null when it answered, else the last error.</summary>
    private async Task<string?> WaitForPingAsync(string handle, TimeSpan budget, CancellationToken ct)
    {
        var until = time.GetUtcNow() + budget;
        var last = "no answer";
        while (true)
        {
            var remaining = until - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                return $"device did not answer a ping within {budget.TotalMilliseconds:F0} ms ({last})";
            }
            if (await TryPingAsync(handle, remaining, ct) is not { } error)
            {
                return null;
            }
            if (error.StartsWith(NotFoundPrefix, StringComparison.Ordinal))
            {
                return error;
            }
            last = error;
            var pause = remaining < PingInterval ? remaining : PingInterval;
            await Task.Delay(pause, time, ct);
        }
    }

    private const string NotFoundPrefix = "not found: ";

    private async Task<string?> TryPingAsync(string handle, TimeSpan timeout, CancellationToken ct)
    {
        using var limit = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, limit.Token);
        try
        {
            await adapter.PingAsync(handle, linked.Token);
            return null;
        }
        catch (DeviceException e) when (e.Kind == DeviceErrorKind.NotFound)
        {
            return NotFoundPrefix + e.Message;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            return limit.IsCancellationRequested ? "ping timed out" : e.Message;
        }
    }

    private Task EmitAsync(CallbackEvent callback) =>
        // Never cancelled: a task that is being stopped still records how it ended.
        outbox.EnqueueAsync(callback, CancellationToken.None);
}
