using System.Text.Json;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Workflows;

namespace Harness.Agent.Tests.Fakes;

internal static class TestTasks
{
    public static readonly DateTimeOffset Start = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    public static WorkflowStep Step(string id, string type, object? parameters = null, int? timeoutMs = null, int? retries = null, string? onError = null) =>
        new(id, type, parameters is null ? null : Params(parameters), timeoutMs, retries, onError);

    public static IReadOnlyDictionary<string, JsonElement> Params(object parameters) =>
        JsonSerializer.SerializeToElement(parameters).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());

    public static DeviceTask Task(string deviceId, IReadOnlyList<WorkflowStep>? steps = null, Guid? runId = null, int runConcurrency = 0,
        TimeSpan? deadline = null, int stepTimeoutMs = 2000, int attempt = 1, DateTimeOffset? now = null) =>
        new(runId ?? Guid.Parse("0192f0a0-0000-7000-8000-000000000001"), deviceId, deviceId, 1, attempt, (now ?? Start).AddSeconds(60), runConcurrency, "_",
            new WorkflowDefinition("wf", steps ?? [Step("pre", StepTypes.Preflight)], 1), stepTimeoutMs, 3000, (now ?? Start) + (deadline ?? TimeSpan.FromHours(1)));
}
