using Harness.Contracts.Workflows;

namespace Harness.Server.Features.Dispatch;

/// <summary>The longest a task may take: every step's timeout times its attempts, plus the gates and grace waits.</summary>
public static class TaskBudget
{
    public static TimeSpan Of(WorkflowDefinition workflow, int stepTimeoutMs, int uploadTimeoutMs, DispatchOptions options)
    {
        long total = options.TaskOverheadMs;
        foreach (var step in workflow.Steps ?? [])
        {
            var timeout = step.TimeoutMs ?? (step.Type == StepTypes.Upload ? uploadTimeoutMs : stepTimeoutMs);
            var attempts = 1 + (step.Retries ?? workflow.Defaults?.Retries ?? 0);
            total += (long)timeout * attempts;
        }
        return TimeSpan.FromMilliseconds(total);
    }
}
