using Harness.Contracts.Dispatch;

namespace Harness.Agent.Execution;

/// <summary>Builds the callbacks a task sends; each gets its own event_id once, kept with it in the outbox.</summary>
internal static class TaskEvents
{
    public static string NewEventId() => Guid.NewGuid().ToString("D");

    public static CallbackEvent Status(DeviceTask task, string status, DateTimeOffset at, string? failureReason = null, string? message = null) =>
        new(NewEventId(), CallbackTypes.DeviceStatus, at, task.RunId, task.DeviceId, task.Attempt, status, failureReason, message);

    public static CallbackEvent Step(DeviceTask task, StepReport step, DateTimeOffset at) =>
        new(NewEventId(), CallbackTypes.Step, at, task.RunId, task.DeviceId, task.Attempt, Step: step);

    public static TaskRef Ref(this DeviceTask task) => new(task.RunId, task.DeviceId, task.Attempt);
}
