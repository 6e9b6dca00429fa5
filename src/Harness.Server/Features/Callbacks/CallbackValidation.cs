using Harness.Contracts.Dispatch;
using Harness.Contracts.Runs;
using Harness.Server.Data;
using Harness.Server.Features.Nodes;
using Harness.Server.Http;

namespace Harness.Server.Features.Callbacks;

/// <summary>Checks a callback batch before anything is written; every error names its event's path.</summary>
public static class CallbackValidation
{
    public const int MaxEvents = 500;
    public const int MaxOutput = 4096;

    private static readonly string[] ReportableStatuses =
    [
        DeviceRunStatus.Preflight, DeviceRunStatus.Running, DeviceRunStatus.Waiting,
        DeviceRunStatus.Succeeded, DeviceRunStatus.Failed, DeviceRunStatus.TimedOut, DeviceRunStatus.Cancelled,
    ];

    private static readonly string[] StepStatuses =
        [StepStatus.Running, StepStatus.Succeeded, StepStatus.Failed, StepStatus.Skipped, StepStatus.TimedOut];

    public static ValidationErrors Validate(IReadOnlyList<CallbackEvent?>? events)
    {
        var errors = new ValidationErrors();
        if (events is null || events.Count == 0)
        {
            errors.Add("events", "at least one event is required");
            return errors;
        }
        if (events.Count > MaxEvents)
        {
            errors.Add("events", $"at most {MaxEvents} events per batch");
            return errors;
        }
        for (var i = 0; i < events.Count; i++)
        {
            var at = $"events[{i}]";
            if (events[i] is not { } e)
            {
                errors.Add(at, "an event object is required");
                continue;
            }
            errors.Required($"{at}.event_id", e.EventId, Limits.NameLength);
            errors.Range($"{at}.attempt", e.Attempt, 1, int.MaxValue);
            errors.MaxLength($"{at}.failure_reason", e.FailureReason, 64);
            errors.MaxLength($"{at}.message", e.Message, Limits.MessageLength);
            switch (e.Type)
            {
                case CallbackTypes.DeviceStatus:
                    RequireTask(errors, at, e);
                    if (e.Status is null)
                    {
                        errors.Add($"{at}.status", "required");
                    }
                    else if (!ReportableStatuses.Contains(e.Status))
                    {
                        errors.Add($"{at}.status", $"must be one of {string.Join(", ", ReportableStatuses)}");
                    }
                    break;
                case CallbackTypes.Step:
                    RequireTask(errors, at, e);
                    if (e.Step is not { } step)
                    {
                        errors.Add($"{at}.step", "required for a step event");
                        break;
                    }
                    errors.Required($"{at}.step.step_id", step.StepId, Limits.NameLength);
                    errors.Required($"{at}.step.type", step.Type, 32);
                    if (step.Status is null || !StepStatuses.Contains(step.Status))
                    {
                        errors.Add($"{at}.step.status", $"must be one of {string.Join(", ", StepStatuses)}");
                    }
                    if (step.DurationMs is < 0)
                    {
                        errors.Add($"{at}.step.duration_ms", "must not be negative");
                    }
                    break;
                case CallbackTypes.ScanResult:
                    if (e.ScanId is null)
                    {
                        errors.Add($"{at}.scan_id", "required for a scan.result event");
                    }
                    if (e.Devices is null)
                    {
                        errors.Add($"{at}.devices", "required for a scan.result event (an empty list when none was found)");
                    }
                    else
                    {
                        var inventory = HeartbeatValidation.Validate(new Contracts.Nodes.HeartbeatRequest(Devices: e.Devices));
                        inventory.CopyTo(errors, $"{at}.");
                    }
                    break;
                case null:
                    errors.Add($"{at}.type", "required");
                    break;
                default:
                    errors.Add($"{at}.type", $"'{e.Type}' is not an event type; use device.status, step or scan.result");
                    break;
            }
        }
        return errors;
    }

    private static void RequireTask(ValidationErrors errors, string at, CallbackEvent e)
    {
        if (e.RunId is null)
        {
            errors.Add($"{at}.run_id", "required");
        }
        errors.Required($"{at}.device_id", e.DeviceId, Limits.DeviceIdLength);
        if (e.Attempt is null)
        {
            errors.Add($"{at}.attempt", "required: the attempt the task was dispatched with");
        }
    }
}
