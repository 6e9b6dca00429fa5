using System.Globalization;
using System.Text;
using Harness.Agent.Listener;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Runs;
using Harness.Contracts.Workflows;
using Harness.Runtimes.Devices;

namespace Harness.Agent.Execution;

public sealed partial class WorkflowRunner
{
    /// <summary>Shell output kept with the step report.</summary>
    internal const int OutputLimitBytes = 4096;

    /// <summary>A flapping device gets this many grace waits per step, then it counts as unresponsive.</summary>
    private const int MaxGraceWaitsPerStep = 3;

    /// <summary>After a step timeout, how long a ping may take before the device counts as not answering.</summary>
    private static readonly TimeSpan TimeoutCheckPing = TimeSpan.FromSeconds(5);

    /// <summary>One step with its retries and grace waits; returns Succeeded or how the task should fail.</summary>
    private async Task<TaskResult> RunStepAsync(TaskContext ctx, WorkflowStep step, CancellationToken ct)
    {
        var workflow = ctx.Task.Workflow;
        var retries = Math.Max(0, step.Retries ?? workflow.Defaults?.Retries ?? 0);
        var timeoutMs = Positive(step.TimeoutMs) ?? Positive(workflow.Defaults?.StepTimeoutMs) ?? Positive(ctx.Task.StepTimeoutMs) ?? 90000;
        var stepId = step.Id ?? step.Type ?? "?";
        var failures = 0;
        var graceWaits = 0;
        while (true)
        {
            var attempt = ctx.Attempts[stepId] = ctx.Attempts.GetValueOrDefault(stepId) + 1;
            var started = time.GetUtcNow();
            await EmitAsync(TaskEvents.Step(ctx.Task, new StepReport(stepId, step.Type, StepStatus.Running, attempt, started), started));
            LogStepStarted(logger, ctx.RunId, ctx.NodeId, ctx.DeviceId, stepId, step.Type ?? "?", attempt);
            StepResult result;
            try
            {
                result = await ExecuteStepOnceAsync(ctx, step, timeoutMs, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested && !ctx.Shutdown.IsCancellationRequested)
            {
                var at = time.GetUtcNow();
                await EmitAsync(TaskEvents.Step(ctx.Task, new StepReport(stepId, step.Type, StepStatus.Failed, attempt, started, at,
                    (long)(at - started).TotalMilliseconds, Error: "stopped: the task was cancelled or passed its deadline"), at));
                throw;
            }
            var finished = time.GetUtcNow();
            var status = result.Error is null ? StepStatus.Succeeded : result.TimedOut ? StepStatus.TimedOut : StepStatus.Failed;
            await EmitAsync(TaskEvents.Step(ctx.Task, new StepReport(stepId, step.Type, status, attempt, started, finished,
                (long)(finished - started).TotalMilliseconds, result.Output, result.Error), finished));
            if (result.Error is not { } error)
            {
                LogStepSucceeded(logger, ctx.RunId, ctx.NodeId, ctx.DeviceId, stepId, (long)(finished - started).TotalMilliseconds);
                return new(DeviceRunStatus.Succeeded);
            }
            LogStepFailed(logger, ctx.RunId, ctx.NodeId, ctx.DeviceId, stepId, attempt, error);
            var unresponsive = result.Unavailable
                || (result.TimedOut && await TryPingAsync(ctx.Handle, TimeoutCheckPing, ct) is not null);
            if (unresponsive)
            {
                if (graceWaits++ < MaxGraceWaitsPerStep && await GraceWaitAsync(ctx, ct))
                {
                    continue; // Recovered: the step runs again without spending a retry.
                }
                return new(DeviceRunStatus.Failed, FailureReasons.DeviceUnresponsive,
                    $"step {stepId}: device stopped answering and did not recover within {Devices.GraceWaitMs} ms ({error})");
            }
            if (!result.Permanent && failures++ < retries)
            {
                continue;
            }
            return new(DeviceRunStatus.Failed, result.TimedOut ? FailureReasons.StepTimeout : FailureReasons.StepFailed, $"step {stepId}: {error}");
        }
    }

    /// <summary>Reports <c>waiting</c> and pings for up to the grace period; reports <c>running</c> again when the device answers.</summary>
    private async Task<bool> GraceWaitAsync(TaskContext ctx, CancellationToken ct)
    {
        var grace = TimeSpan.FromMilliseconds(Devices.GraceWaitMs);
        await EmitAsync(TaskEvents.Status(ctx.Task, DeviceRunStatus.Waiting, time.GetUtcNow(), message: $"device not answering; waiting up to {Devices.GraceWaitMs} ms"));
        LogWaiting(logger, ctx.RunId, ctx.NodeId, ctx.DeviceId, Devices.GraceWaitMs);
        if (await WaitForPingAsync(ctx.Handle, grace, ct) is { } error)
        {
            health.RecordFailure(ctx.DeviceId, error);
            return false;
        }
        await EmitAsync(TaskEvents.Status(ctx.Task, DeviceRunStatus.Running, time.GetUtcNow(), message: "device answers again"));
        LogRecovered(logger, ctx.RunId, ctx.NodeId, ctx.DeviceId);
        return true;
    }

    private async Task<StepResult> ExecuteStepOnceAsync(TaskContext ctx, WorkflowStep step, int timeoutMs, CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(timeoutMs), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            return new(await ExecuteStepAsync(ctx, step, linked.Token), null);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            return new(null, $"timed out after {timeoutMs} ms", TimedOut: true);
        }
        catch (DeviceException e) when (e.Kind is DeviceErrorKind.Unavailable or DeviceErrorKind.BackendDown)
        {
            return new(null, e.Message, Unavailable: true);
        }
        catch (StepDefinitionException e)
        {
            return new(null, e.Message, Permanent: true);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            return new(null, e.Message);
        }
    }

    private async Task<string?> ExecuteStepAsync(TaskContext ctx, WorkflowStep step, CancellationToken ct)
    {
        var h = ctx.Handle;
        switch (step.Type)
        {
            case StepTypes.Preflight:
                await adapter.PingAsync(h, ct);
                return null;
            case StepTypes.LaunchApp:
                await adapter.LaunchAppAsync(h, StepParams.RequireString(step, "package"), StepParams.OptionalString(step, "activity"), ct);
                return null;
            case StepTypes.OpenUrl:
                await adapter.OpenUrlAsync(h, StepParams.RequireString(step, "url"), ct);
                return null;
            case StepTypes.Tap:
                await adapter.TapAsync(h, StepParams.RequireInt(step, "x"), StepParams.RequireInt(step, "y"), ct);
                return null;
            case StepTypes.Swipe:
                await adapter.SwipeAsync(h, StepParams.RequireInt(step, "x1"), StepParams.RequireInt(step, "y1"),
                    StepParams.RequireInt(step, "x2"), StepParams.RequireInt(step, "y2"), StepParams.OptionalInt(step, "duration_ms") ?? 300, ct);
                return null;
            case StepTypes.InputText:
                await adapter.InputTextAsync(h, StepParams.OptionalString(step, "text") ?? throw new StepDefinitionException("params.text: required"), ct);
                return null;
            case StepTypes.KeyEvent:
                await adapter.KeyEventAsync(h, StepParams.RequireString(step, "key"), ct);
                return null;
            case StepTypes.Wait:
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(0, StepParams.RequireInt(step, "ms"))), time, ct);
                return null;
            case StepTypes.Shell:
                return Excerpt(await adapter.ShellAsync(h, StepParams.RequireString(step, "command"), ct));
            case StepTypes.Screenshot:
                var png = await adapter.ScreenshotAsync(h, ct);
                var name = StepParams.OptionalString(step, "name") ?? step.Id ?? "screenshot";
                ctx.Screenshots.Add(new(step.Id ?? StepTypes.Screenshot, name, png, time.GetUtcNow()));
                return $"{name}: {png.Length} bytes";
            case StepTypes.Upload:
                return await QueueUploadsAsync(ctx, step, ct);
            case StepTypes.Report:
                return $"{ctx.StepsSucceeded} step(s) succeeded, {ctx.StepsFailed} failed before this report";
            case StepTypes.Reboot:
                await adapter.RebootAsync(h, ct);
                // The step ends when the device answers again, within the step's timeout.
                while (await TryPingAsync(h, PingInterval, ct) is not null)
                {
                    await Task.Delay(PingInterval, time, ct);
                }
                return null;
            default:
                throw new StepDefinitionException($"type: '{step.Type}' is not a device step ({string.Join(", ", StepTypes.Device)})");
        }
    }

    /// <summary>
    /// Hands the task's screenshots to the durable outbox, which uploads them (retrying, with the upload
    /// timeout per attempt); the step succeeds once they are safely on disk.
    /// </summary>
    private async Task<string> QueueUploadsAsync(TaskContext ctx, WorkflowStep step, CancellationToken ct)
    {
        if (ctx.Screenshots.Count == 0)
        {
            throw new StepDefinitionException("nothing to upload: no screenshot step ran before this upload");
        }
        var uploadTimeoutMs = Positive(step.TimeoutMs) ?? Positive(ctx.Task.Workflow.Defaults?.UploadTimeoutMs) ?? Positive(ctx.Task.UploadTimeoutMs) ?? 30000;
        var queued = 0;
        foreach (var shot in ctx.Screenshots)
        {
            var query = new Dictionary<string, string>
            {
                [ArtifactUpload.EventId] = TaskEvents.NewEventId(),
                [ArtifactUpload.RunId] = ctx.RunId.ToString("D"),
                [ArtifactUpload.DeviceId] = ctx.DeviceId,
                [ArtifactUpload.StepId] = shot.StepId,
                [ArtifactUpload.Attempt] = ctx.Task.Attempt.ToString(CultureInfo.InvariantCulture),
                [ArtifactUpload.Kind] = "screenshot",
                [ArtifactUpload.TakenAt] = shot.TakenAt.ToString("O", CultureInfo.InvariantCulture),
            };
            await outbox.EnqueueArtifactAsync(new OutboxArtifact(query, "image/png", shot.Png, uploadTimeoutMs), ct);
            queued++;
        }
        ctx.Screenshots.Clear();
        return $"{queued} screenshot(s) queued for upload";
    }

    private static int? Positive(int? value) => value is > 0 ? value : null;

    /// <summary>At most <see cref="OutputLimitBytes"/> of UTF-8, cut on a character boundary.</summary>
    internal static string Excerpt(string output)
    {
        if (Encoding.UTF8.GetByteCount(output) <= OutputLimitBytes)
        {
            return output;
        }
        const string marker = "\n…[truncated]";
        var budget = OutputLimitBytes - Encoding.UTF8.GetByteCount(marker);
        var length = Math.Min(output.Length, budget);
        while (Encoding.UTF8.GetByteCount(output.AsSpan(0, length)) > budget)
        {
            length--;
        }
        if (length > 0 && char.IsHighSurrogate(output[length - 1]))
        {
            length--;
        }
        return string.Concat(output.AsSpan(0, length), marker);
    }

    private sealed record StepResult(string? Output, string? Error, bool TimedOut = false, bool Unavailable = false, bool Permanent = false);
}
