using System.Text.Json;
using System.Text.RegularExpressions;
using Harness.Contracts.Workspaces;
using Harness.Server.Data;
using Harness.Server.Features.Agents;
using Harness.Server.Http;

namespace Harness.Server.Features.Workspaces;

/// <summary>Validation of a workspace request; every error names its snake_case field.</summary>
public static partial class WorkspaceFields
{
    public const int DefaultPort = 8080;
    public const int MaxEnv = 128;
    public const int MaxEnvValueLength = 4096;
    public const double MaxCpu = 1024;
    public const int MinMemoryMb = 16;
    public const int MaxMemoryMb = 4 * 1024 * 1024;

    // A DNS label: the name appears in the proxy URL /w/{name}/ and in hostnames.
    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    // An image reference as registries spell it: [registry[:port]/]path[:tag][@digest].
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex ImagePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvKeyPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex AgentRefPattern();

    public static ValidationErrors Validate(CreateWorkspaceRequest request)
    {
        var errors = new ValidationErrors();
        if (string.IsNullOrWhiteSpace(request.Name))
        {
            errors.Add("name", "required");
        }
        else if (!NamePattern().IsMatch(request.Name))
        {
            errors.Add("name", "must be 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit (a DNS label, e.g. alice-dev)");
        }
        if (string.IsNullOrWhiteSpace(request.Image))
        {
            errors.Add("image", "required: an image reference such as ghcr.io/acme/dev:1.2");
        }
        else if (request.Image.Length > Limits.UrlLength || !ImagePattern().IsMatch(request.Image))
        {
            errors.Add("image", $"must be an image reference (letters, digits and . _ / : @ + -, at most {Limits.UrlLength} characters), e.g. ghcr.io/acme/dev:1.2");
        }
        if (request.AgentId is { } agent && !AgentRefPattern().IsMatch(agent))
        {
            errors.Add("agent_id", "must be an agent's id or name");
        }
        errors.MaxLength("region", request.Region, Limits.NameLength);
        AgentFields.ValidateLabels(errors, "labels", request.Labels);
        errors.Range("port", request.Port, 1, 65535);
        if (request.Cpu is { } cpu && (double.IsNaN(cpu) || cpu <= 0 || cpu > MaxCpu))
        {
            errors.Add("cpu", $"must be a number of cores above 0 and at most {MaxCpu} (e.g. 0.5)");
        }
        errors.Range("memory_mb", request.MemoryMb, MinMemoryMb, MaxMemoryMb);
        if (request.Env is { } env)
        {
            if (env.Count > MaxEnv)
            {
                errors.Add("env", $"at most {MaxEnv} variables");
            }
            foreach (var (key, value) in env)
            {
                if (!EnvKeyPattern().IsMatch(key) || key.Length > 256)
                {
                    errors.Add($"env.{key}", "names must be letters, digits and '_', not starting with a digit");
                }
                if (value is null || value.Length > MaxEnvValueLength)
                {
                    errors.Add($"env.{key}", $"values must be strings of at most {MaxEnvValueLength} characters");
                }
            }
        }
        return errors;
    }

    public static string? SerializeEnv(IReadOnlyDictionary<string, string>? env) =>
        env is null || env.Count == 0 ? null : JsonSerializer.Serialize(env, EnvJson.Options);

    public static IReadOnlyDictionary<string, string> DeserializeEnv(string? json) =>
        json is null ? new Dictionary<string, string>() : JsonSerializer.Deserialize<Dictionary<string, string>>(json, EnvJson.Options) ?? [];

    private static class EnvJson
    {
        public static readonly JsonSerializerOptions Options = new();
    }
}
