using Harness.Contracts.Dispatch;

namespace Harness.Agent.Execution;

/// <summary>What one running task carries from step to step.</summary>
internal sealed class TaskContext(DeviceTask task, string nodeId, string handle, CancellationToken shutdown)
{
    /// <summary>The agent is stopping: nothing more is reported for this task.</summary>
    public CancellationToken Shutdown { get; } = shutdown;

    public DeviceTask Task { get; } = task;
    public string NodeId { get; } = nodeId;
    public string Handle { get; } = handle;
    public Guid RunId => Task.RunId;
    public string DeviceId => Task.DeviceId;

    /// <summary>Screenshots taken and not uploaded yet.</summary>
    public List<Screenshot> Screenshots { get; } = [];

    public int StepsSucceeded { get; set; }
    public int StepsFailed { get; set; }

    /// <summary>Step attempts reported so far per step id, so every report of a step has its own attempt number.</summary>
    public Dictionary<string, int> Attempts { get; } = new(StringComparer.Ordinal);
}

internal sealed record Screenshot(string StepId, string Name, byte[] Png, DateTimeOffset TakenAt);

/// <summary>How a task ended.</summary>
internal sealed record TaskResult(string Status, string? FailureReason = null, string? Message = null);
