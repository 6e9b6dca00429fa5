using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Harness.Contracts.Workflows;
using Harness.Server.Http;

namespace Harness.Server.Features.Workflows;

/// <summary>
/// Resolves <c>{{vars.x}}</c>, <c>{{device.*}}</c> and <c>{{run.*}}</c> in step parameters when a run
/// is created, so an agent receives a workflow with nothing left to interpret.
/// </summary>
public static partial class WorkflowTemplate
{
    public sealed record Context(
        Guid RunId,
        string? Subject,
        IReadOnlyDictionary<string, string> Vars,
        string DeviceId,
        int? IndexNo,
        string NodeId);

    public static bool IsTemplate(string text) => text.Contains("{{", StringComparison.Ordinal);

    /// <summary>Whether every <c>{{…}}</c> in <paramref name="text"/> names a known variable.</summary>
    public static bool TryCheck(string text, out string bad)
    {
        foreach (Match m in Expression().Matches(text))
        {
            if (!Known().IsMatch(m.Groups[1].Value))
            {
                bad = m.Value;
                return false;
            }
        }
        bad = "";
        return true;
    }

    /// <summary>The <c>vars.NAME</c> names a workflow uses.</summary>
    public static IEnumerable<(string Var, string Path)> VariablesUsed(IReadOnlyList<WorkflowStep> steps, string path = "steps")
    {
        for (var i = 0; i < steps.Count; i++)
        {
            foreach (var (key, value) in steps[i].Params ?? new Dictionary<string, JsonElement>())
            {
                foreach (var text in Strings(value))
                {
                    foreach (Match m in Expression().Matches(text))
                    {
                        var expr = m.Groups[1].Value.Trim();
                        if (expr.StartsWith("vars.", StringComparison.Ordinal))
                        {
                            yield return (expr["vars.".Length..], $"{path}[{i}].params.{key}");
                        }
                    }
                }
            }
        }
    }

    /// <summary>Resolves every parameter; a missing variable or a non-integer where one is needed is reported, keyed by path.</summary>
    public static WorkflowDefinition Resolve(WorkflowDefinition workflow, Context context, ValidationErrors errors, string errorPrefix = "")
    {
        var steps = new List<WorkflowStep>(workflow.Steps!.Count);
        for (var i = 0; i < workflow.Steps.Count; i++)
        {
            var step = workflow.Steps[i];
            if (step.Params is null || step.Params.Count == 0)
            {
                steps.Add(step);
                continue;
            }
            var integers = WorkflowValidator.IntegerParams(step.Type!).ToDictionary(p => p.Name);
            var resolved = new Dictionary<string, JsonElement>(step.Params.Count, StringComparer.Ordinal);
            foreach (var (key, value) in step.Params)
            {
                var at = $"{errorPrefix}steps[{i}].params.{key}";
                resolved[key] = ResolveValue(value, context, errors, at, integers.TryGetValue(key, out var range) ? range : null);
            }
            steps.Add(step with { Params = resolved });
        }
        return workflow with { Steps = steps };
    }

    private static JsonElement ResolveValue(JsonElement value, Context context, ValidationErrors errors, string at, (string Name, int Min, int Max)? integer)
    {
        if (value.ValueKind == JsonValueKind.Array)
        {
            var items = value.EnumerateArray().Select((item, j) => ResolveValue(item, context, errors, $"{at}[{j}]", null)).ToList();
            return JsonSerializer.SerializeToElement(items, TemplateJson.Default.ListJsonElement);
        }
        if (value.ValueKind != JsonValueKind.String || !IsTemplate(value.GetString()!))
        {
            return value;
        }
        var text = Expression().Replace(value.GetString()!, m => Lookup(m.Groups[1].Value.Trim(), context, errors, at));
        if (integer is { } range)
        {
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) || number < range.Min || number > range.Max)
            {
                errors.Add(at, $"resolves to '{text}', which is not an integer between {range.Min} and {range.Max}");
                return value;
            }
            return JsonSerializer.SerializeToElement(number, TemplateJson.Default.Int32);
        }
        return JsonSerializer.SerializeToElement(text, TemplateJson.Default.String);
    }

    private static string Lookup(string expr, Context context, ValidationErrors errors, string at)
    {
        switch (expr)
        {
            case "device.device_id" or "device.serial":
                return context.DeviceId;
            case "device.index_no":
                return context.IndexNo?.ToString(CultureInfo.InvariantCulture) ?? "";
            case "device.node_id":
                return context.NodeId;
            case "run.id":
                return context.RunId.ToString();
            case "run.subject":
                return context.Subject ?? "_";
        }
        var name = expr["vars.".Length..];
        if (context.Vars.TryGetValue(name, out var v))
        {
            return v;
        }
        errors.Add($"vars.{name}", $"required by {at}; pass it in the run's vars");
        return "";
    }

    private static IEnumerable<string> Strings(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => [value.GetString()!],
        JsonValueKind.Array => value.EnumerateArray().SelectMany(Strings),
        _ => [],
    };

    [GeneratedRegex(@"\{\{(.*?)\}\}")]
    private static partial Regex Expression();

    [GeneratedRegex(@"^\s*(vars\.[A-Za-z_][A-Za-z0-9_]{0,63}|device\.(device_id|serial|index_no|node_id)|run\.(id|subject))\s*$")]
    private static partial Regex Known();
}

[System.Text.Json.Serialization.JsonSerializable(typeof(List<JsonElement>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(int))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class TemplateJson : System.Text.Json.Serialization.JsonSerializerContext;
