using System.Globalization;
using System.Text.Json;
using Harness.Contracts.Workflows;

namespace Harness.Agent.Execution;

/// <summary>Reads a step's params; a missing or malformed one fails the step with its path.</summary>
internal static class StepParams
{
    public static string RequireString(WorkflowStep step, string name) =>
        OptionalString(step, name) is { Length: > 0 } s ? s : throw new StepDefinitionException($"params.{name}: required");

    public static string? OptionalString(WorkflowStep step, string name) =>
        step.Params?.TryGetValue(name, out var e) == true ? e.ValueKind switch
        {
            JsonValueKind.String => e.GetString(),
            JsonValueKind.Number => e.GetRawText(),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => throw new StepDefinitionException($"params.{name}: must be a string"),
        } : null;

    public static int RequireInt(WorkflowStep step, string name) =>
        OptionalInt(step, name) ?? throw new StepDefinitionException($"params.{name}: required");

    public static int? OptionalInt(WorkflowStep step, string name)
    {
        if (step.Params?.TryGetValue(name, out var e) != true || e.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return null;
        }
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var n))
        {
            return n;
        }
        if (e.ValueKind == JsonValueKind.String && int.TryParse(e.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out n))
        {
            return n;
        }
        throw new StepDefinitionException($"params.{name}: must be an integer");
    }
}

/// <summary>The step itself is wrong (a missing param, an unknown type): retrying cannot help.</summary>
internal sealed class StepDefinitionException(string message) : Exception(message);
