using System.Text.Json;
using System.Text.RegularExpressions;
using Harness.Contracts.Workflows;
using Harness.Server.Data;
using Harness.Server.Http;

namespace Harness.Server.Features.Workflows;

/// <summary>
/// Checks a workflow document against the DSL (DESIGN.md §5) and reports every problem with its
/// JSON path (<c>steps[3].params.package: required</c>). The published JSON Schema says the same.
/// </summary>
public static partial class WorkflowValidator
{
    public const int MaxSteps = 200;
    public const int MaxTimeoutMs = 3_600_000;
    public const int MaxRetries = 10;
    public const int MaxParamLength = 4096;

    private enum Kind { String, Integer, Key, Command }

    private sealed record Param(string Name, Kind Kind, bool Required, int Min = 0, int Max = int.MaxValue);

    private static readonly Dictionary<string, Param[]> ParamsByType = new(StringComparer.Ordinal)
    {
        [StepTypes.Preflight] = [],
        [StepTypes.LaunchApp] = [new("package", Kind.String, true), new("activity", Kind.String, false)],
        [StepTypes.OpenUrl] = [new("url", Kind.String, true)],
        [StepTypes.Tap] = [new("x", Kind.Integer, true, 0, 100_000), new("y", Kind.Integer, true, 0, 100_000)],
        [StepTypes.Swipe] =
        [
            new("x1", Kind.Integer, true, 0, 100_000), new("y1", Kind.Integer, true, 0, 100_000),
            new("x2", Kind.Integer, true, 0, 100_000), new("y2", Kind.Integer, true, 0, 100_000),
            new("duration_ms", Kind.Integer, false, 1, 60_000),
        ],
        [StepTypes.InputText] = [new("text", Kind.String, true)],
        [StepTypes.KeyEvent] = [new("key", Kind.Key, true)],
        [StepTypes.Wait] = [new("ms", Kind.Integer, true, 0, MaxTimeoutMs)],
        [StepTypes.Shell] = [new("command", Kind.String, true)],
        [StepTypes.Screenshot] = [new("name", Kind.String, false)],
        [StepTypes.Upload] = [],
        [StepTypes.Report] = [],
        [StepTypes.Reboot] = [],
        [StepTypes.Exec] = [new("command", Kind.Command, true), new("workdir", Kind.String, false)],
    };

    public static void Validate(WorkflowDefinition? workflow, ValidationErrors errors)
    {
        if (workflow is null)
        {
            errors.Add("$", "a workflow document is required");
            return;
        }
        ValidateName(errors, "name", workflow.Name);
        errors.MaxLength("description", workflow.Description, Limits.MessageLength);
        errors.Range("version", workflow.Version, 1, int.MaxValue);
        if (workflow.Defaults is { } defaults)
        {
            errors.Range("defaults.step_timeout_ms", defaults.StepTimeoutMs, 1, MaxTimeoutMs);
            errors.Range("defaults.upload_timeout_ms", defaults.UploadTimeoutMs, 1, MaxTimeoutMs);
            errors.Range("defaults.retries", defaults.Retries, 0, MaxRetries);
        }
        ValidateSteps(workflow.Steps, errors, "steps");
    }

    public static void ValidateSteps(IReadOnlyList<WorkflowStep?>? steps, ValidationErrors errors, string path)
    {
        if (steps is null || steps.Count == 0)
        {
            errors.Add(path, "at least one step is required");
            return;
        }
        if (steps.Count > MaxSteps)
        {
            errors.Add(path, $"at most {MaxSteps} steps");
            return;
        }
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
        {
            var at = $"{path}[{i}]";
            if (steps[i] is not { } step)
            {
                errors.Add(at, "a step object is required");
                continue;
            }
            if (string.IsNullOrEmpty(step.Id))
            {
                errors.Add($"{at}.id", "required");
            }
            else if (!StepId().IsMatch(step.Id))
            {
                errors.Add($"{at}.id", "use 1 to 64 letters, digits, '_', '-' or '.'");
            }
            else if (!ids.Add(step.Id))
            {
                errors.Add($"{at}.id", $"'{step.Id}' is used by an earlier step; step ids must be unique");
            }
            errors.Range($"{at}.timeout_ms", step.TimeoutMs, 1, MaxTimeoutMs);
            errors.Range($"{at}.retries", step.Retries, 0, MaxRetries);
            if (step.OnError is not null and not (OnError.Fail or OnError.Continue))
            {
                errors.Add($"{at}.on_error", "must be 'fail' or 'continue'");
            }
            if (string.IsNullOrEmpty(step.Type))
            {
                errors.Add($"{at}.type", "required");
            }
            else if (!ParamsByType.TryGetValue(step.Type, out var expected))
            {
                errors.Add($"{at}.type", $"'{step.Type}' is not a step type; use one of {string.Join(", ", StepTypes.All)}");
            }
            else
            {
                ValidateParams(step.Params, expected, errors, $"{at}.params");
            }
        }
    }

    public static void ValidateName(ValidationErrors errors, string field, string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            errors.Add(field, "required");
        }
        else if (!Name().IsMatch(name))
        {
            errors.Add(field, "use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
    }

    private static void ValidateParams(IReadOnlyDictionary<string, JsonElement>? given, Param[] expected, ValidationErrors errors, string path)
    {
        given ??= new Dictionary<string, JsonElement>();
        foreach (var key in given.Keys.Where(k => expected.All(p => p.Name != k)))
        {
            errors.Add($"{path}.{key}", expected.Length == 0
                ? "this step type takes no parameters"
                : $"unknown parameter; this step type takes {string.Join(", ", expected.Select(p => p.Name))}");
        }
        foreach (var param in expected)
        {
            var at = $"{path}.{param.Name}";
            if (!given.TryGetValue(param.Name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                if (param.Required)
                {
                    errors.Add(at, "required");
                }
                continue;
            }
            if (value.ValueKind == JsonValueKind.String)
            {
                var text = value.GetString()!;
                if (text.Length > MaxParamLength)
                {
                    errors.Add(at, $"must be at most {MaxParamLength} characters");
                    continue;
                }
                if (!WorkflowTemplate.TryCheck(text, out var bad))
                {
                    errors.Add(at, $"'{bad}' is not a known variable; use {{{{vars.NAME}}}}, {{{{device.device_id}}}}, {{{{device.index_no}}}}, {{{{device.node_id}}}}, {{{{run.id}}}} or {{{{run.subject}}}}");
                    continue;
                }
            }
            switch (param.Kind)
            {
                case Kind.String when value.ValueKind != JsonValueKind.String:
                    errors.Add(at, "must be a string");
                    break;
                case Kind.String when param.Required && value.GetString()!.Length == 0:
                    errors.Add(at, "must not be empty");
                    break;
                case Kind.Integer:
                    ValidateInteger(value, param, errors, at);
                    break;
                case Kind.Key when value.ValueKind is not (JsonValueKind.String or JsonValueKind.Number):
                    errors.Add(at, "must be a key name (KEYCODE_HOME) or a key code number");
                    break;
                case Kind.Command when value.ValueKind == JsonValueKind.Array:
                    if (value.GetArrayLength() == 0 || value.EnumerateArray().Any(a => a.ValueKind != JsonValueKind.String))
                    {
                        errors.Add(at, "must be a non-empty array of strings, or a string");
                    }
                    break;
                case Kind.Command when value.ValueKind != JsonValueKind.String:
                    errors.Add(at, "must be a string or an array of strings");
                    break;
            }
        }
    }

    private static void ValidateInteger(JsonElement value, Param param, ValidationErrors errors, string at)
    {
        if (value.ValueKind == JsonValueKind.String && WorkflowTemplate.IsTemplate(value.GetString()!))
        {
            return; // Checked when the run resolves it.
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
        {
            errors.Add(at, "must be an integer");
        }
        else if (number < param.Min || number > param.Max)
        {
            errors.Add(at, $"must be between {param.Min} and {param.Max}");
        }
    }

    /// <summary>The integer parameters of a step type, which a run must resolve to numbers.</summary>
    public static IEnumerable<(string Name, int Min, int Max)> IntegerParams(string type) =>
        ParamsByType.TryGetValue(type, out var ps) ? ps.Where(p => p.Kind == Kind.Integer).Select(p => (p.Name, p.Min, p.Max)) : [];

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex StepId();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex Name();
}
