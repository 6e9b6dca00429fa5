namespace Harness.Agent.Execution;

public sealed partial class WorkflowRunner
{
    // Every line names run_id, node_id and device_id in the message too (DESIGN.md §4), not only in the scope.

    [LoggerMessage(Level = LogLevel.Information, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Task started: workflow {Workflow}, {Steps} step(s), attempt {Attempt}")]
    private static partial void LogTaskStarted(ILogger logger, Guid runId, string nodeId, string deviceId, string? workflow, int steps, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Task ended {Status} (reason {Reason}); {Succeeded} step(s) succeeded, {Failed} failed")]
    private static partial void LogTaskEnded(ILogger logger, Guid runId, string nodeId, string deviceId, string status, string reason, int succeeded, int failed);

    [LoggerMessage(Level = LogLevel.Error, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Task failed unexpectedly")]
    private static partial void LogTaskCrashed(ILogger logger, Guid runId, string nodeId, string deviceId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Agent stopping: the task did not finish within the drain time and is reported failed (agent_shutdown)")]
    private static partial void LogAbandoned(ILogger logger, Guid runId, string nodeId, string deviceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Gate {Gate} failed: {Error}")]
    private static partial void LogGateFailed(ILogger logger, Guid runId, string nodeId, string deviceId, string gate, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Emulator is {State}; starting it")]
    private static partial void LogEmulatorStarting(ILogger logger, Guid runId, string nodeId, string deviceId, string state);

    [LoggerMessage(Level = LogLevel.Debug, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Step {StepId} ({Type}) started, attempt {Attempt}")]
    private static partial void LogStepStarted(ILogger logger, Guid runId, string nodeId, string deviceId, string stepId, string type, int attempt);

    [LoggerMessage(Level = LogLevel.Debug, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Step {StepId} succeeded in {DurationMs} ms")]
    private static partial void LogStepSucceeded(ILogger logger, Guid runId, string nodeId, string deviceId, string stepId, long durationMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Step {StepId} failed (attempt {Attempt}): {Error}")]
    private static partial void LogStepFailed(ILogger logger, Guid runId, string nodeId, string deviceId, string stepId, int attempt, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Step {StepId} failed with on_error=continue; going on")]
    private static partial void LogContinuing(ILogger logger, Guid runId, string nodeId, string deviceId, string stepId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Device not answering; waiting up to {GraceMs} ms for it")]
    private static partial void LogWaiting(ILogger logger, Guid runId, string nodeId, string deviceId, int graceMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Device answers again; retrying the step")]
    private static partial void LogRecovered(ILogger logger, Guid runId, string nodeId, string deviceId);
}
