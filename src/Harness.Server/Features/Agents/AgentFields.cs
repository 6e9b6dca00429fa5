using System.Text.Json;
using System.Text.RegularExpressions;
using Harness.Contracts.Agents;
using Harness.Server.Data;
using Harness.Server.Http;

namespace Harness.Server.Features.Agents;

/// <summary>Validation and storage of the fields an agent describes itself with (register, enroll, heartbeat).</summary>
public static partial class AgentFields
{
    public const int MaxCapacity = 100_000;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex NamePattern();

    public static void ValidateName(ValidationErrors errors, string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            errors.Add("name", "required");
        }
        else if (!NamePattern().IsMatch(name))
        {
            errors.Add("name", "must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. PC-01)");
        }
    }

    public static void Validate(
        ValidationErrors errors,
        IReadOnlyList<string>? runtimes,
        int? capacity,
        string? region,
        IReadOnlyDictionary<string, string>? labels,
        string? endpoint)
    {
        if (runtimes is not null)
        {
            for (var i = 0; i < runtimes.Count; i++)
            {
                if (!RuntimeNames.All.Contains(runtimes[i]))
                {
                    errors.Add($"runtimes[{i}]", $"'{runtimes[i]}' is not a runtime; use {string.Join(", ", RuntimeNames.All)}");
                }
            }
        }
        errors.Range("capacity", capacity, 0, MaxCapacity);
        errors.MaxLength("region", region, Limits.NameLength);
        ValidateLabels(errors, "labels", labels);
        if (endpoint is not null
            && (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || endpoint.Length > Limits.UrlLength))
        {
            errors.Add("endpoint", "must be an absolute http:// or https:// URL");
        }
    }

    /// <summary>Whether the agent hosts a workspace runtime (docker, kubernetes, fake) served through the Runtime Agent API.</summary>
    public static bool RunsWorkspaces(string runtimes) =>
        SplitRuntimes(runtimes).Any(r => RuntimeNames.Workspace.Contains(r));

    public static void ValidateLabels(ValidationErrors errors, string field, IReadOnlyDictionary<string, string>? labels)
    {
        if (labels is null)
        {
            return;
        }
        if (labels.Count > Limits.MaxLabels)
        {
            errors.Add(field, $"at most {Limits.MaxLabels} labels");
        }
        foreach (var (key, value) in labels)
        {
            if (key.Length is 0 or > 63)
            {
                errors.Add($"{field}.{key}", "label keys must be 1-63 characters");
            }
            if (value is null || value.Length > 256)
            {
                errors.Add($"{field}.{key}", "label values must be strings of at most 256 characters");
            }
        }
    }

    public static string SerializeLabels(IReadOnlyDictionary<string, string>? labels) =>
        labels is null ? "{}" : JsonSerializer.Serialize(labels, LabelsJson.Options);

    public static IReadOnlyDictionary<string, string> DeserializeLabels(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(json, LabelsJson.Options) ?? [];

    public static string JoinRuntimes(IReadOnlyList<string>? runtimes) =>
        runtimes is null ? "" : string.Join(',', runtimes.Distinct(StringComparer.Ordinal));

    public static IReadOnlyList<string> SplitRuntimes(string runtimes) =>
        runtimes.Split(',', StringSplitOptions.RemoveEmptyEntries);

    private static class LabelsJson
    {
        public static readonly JsonSerializerOptions Options = new();
    }
}
