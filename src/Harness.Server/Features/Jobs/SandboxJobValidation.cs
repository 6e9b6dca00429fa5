using System.Text.RegularExpressions;
using Harness.Contracts.Jobs;
using Harness.Server.Data;
using Harness.Server.Http;

namespace Harness.Server.Features.Jobs;

/// <summary>Checks a <c>POST /api/jobs</c> body; every message names its field and none repeats a secret's value.</summary>
public static partial class SandboxJobValidation
{
    public const int DefaultTimeoutS = 3600;
    public const int MaxTimeoutS = 7 * 24 * 3600;
    public const double DefaultCpu = 1;
    public const int DefaultMemoryMb = 512;
    public const int DefaultPids = 256;
    public const int MaxCommandArgs = 512;
    public const int MaxArgLength = 32 * 1024;
    public const int MaxCommandLength = 128 * 1024;
    public const int MaxEnv = 256;
    public const int MaxEnvValueLength = 32 * 1024;
    public const int MaxSecrets = 64;
    public const int MaxSecretLength = 16 * 1024;
    public const int MaxArtifactPatterns = 32;
    public const int MinSecretLength = 4;

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
    private static partial Regex EnvName();

    /// <summary>The spec to store (no secret values), or null with <paramref name="errors"/> filled.</summary>
    public static SandboxJobSpec? Validate(CreateJobRequest request, ValidationErrors errors)
    {
        if (request.Type is null)
        {
            errors.Add("type", "required: \"sandbox\"");
        }
        else if (request.Type != JobTypeNames.Sandbox)
        {
            errors.Add("type", request.Type is JobTypeNames.Archive or JobTypeNames.Restore
                ? $"'{request.Type}' jobs are made by POST /api/workspaces/{{workspace}}/{request.Type}; only \"sandbox\" jobs are created here"
                : "must be \"sandbox\"");
        }

        errors.Required("image", request.Image, Limits.UrlLength);
        if (request.Image is { Length: > 0 } image && (image.Any(char.IsWhiteSpace) || image.Any(char.IsControl) || image.StartsWith('-')))
        {
            errors.Add("image", "must be an image reference without spaces or control characters");
        }

        if (request.Command is null || request.Command.Count == 0)
        {
            errors.Add("command", "required: the program and its arguments, e.g. [\"sh\", \"-c\", \"make test\"]");
        }
        else if (request.Command.Count > MaxCommandArgs)
        {
            errors.Add("command", $"at most {MaxCommandArgs} arguments");
        }
        else
        {
            long total = 0;
            for (var i = 0; i < request.Command.Count; i++)
            {
                var arg = request.Command[i];
                if (arg is null)
                {
                    errors.Add($"command[{i}]", "must be a string");
                    continue;
                }
                total += arg.Length;
                if (i == 0 && string.IsNullOrWhiteSpace(arg))
                {
                    errors.Add("command[0]", "the program must not be empty");
                }
                if (arg.Length > MaxArgLength)
                {
                    errors.Add($"command[{i}]", $"must be at most {MaxArgLength} characters");
                }
                if (arg.Contains('\0'))
                {
                    errors.Add($"command[{i}]", "must not contain NUL characters");
                }
            }
            if (total > MaxCommandLength)
            {
                errors.Add("command", $"must be at most {MaxCommandLength} characters in all");
            }
        }

        ValidateVariables(errors, "env", request.Env, MaxEnv, MaxEnvValueLength, minLength: 0);
        ValidateVariables(errors, "secrets", request.Secrets, MaxSecrets, MaxSecretLength, MinSecretLength);
        if (request.Env is not null && request.Secrets is not null)
        {
            foreach (var name in request.Secrets.Keys.Where(k => k is not null && request.Env.ContainsKey(k)))
            {
                errors.Add($"secrets.{name}", "is also set in env; give each variable one source");
            }
        }

        var network = request.Network ?? JobNetworks.None;
        if (network is not (JobNetworks.None or JobNetworks.Egress))
        {
            errors.Add("network", "must be \"none\" (the default) or \"egress\"");
        }
        errors.Range("timeout_s", request.TimeoutS, 1, MaxTimeoutS);
        if (request.Cpu is { } cpu && (double.IsNaN(cpu) || cpu < 0.01 || cpu > 256))
        {
            errors.Add("cpu", "must be between 0.01 and 256 cores");
        }
        errors.Range("memory_mb", request.MemoryMb, 16, 1024 * 1024);
        errors.Range("pids", request.Pids, 8, 1_000_000);

        var artifacts = request.Artifacts ?? [];
        if (artifacts.Count > MaxArtifactPatterns)
        {
            errors.Add("artifacts", $"at most {MaxArtifactPatterns} patterns");
        }
        for (var i = 0; i < Math.Min(artifacts.Count, MaxArtifactPatterns); i++)
        {
            var pattern = artifacts[i];
            if (string.IsNullOrWhiteSpace(pattern) || pattern.Length > 256)
            {
                errors.Add($"artifacts[{i}]", "must be a glob of 1 to 256 characters relative to the workspace, e.g. \"out/*.txt\"");
            }
            else if (pattern.StartsWith('/') || pattern.Split('/', '\\').Contains("..") || pattern.Contains('\0'))
            {
                errors.Add($"artifacts[{i}]", "must stay inside the workspace (no leading '/', no '..')");
            }
        }

        if (errors.HasErrors)
        {
            return null;
        }
        return new SandboxJobSpec(
            request.Image!,
            request.Command!,
            request.Env ?? new Dictionary<string, string>(),
            request.Secrets?.Keys.Order(StringComparer.Ordinal).ToList() ?? [],
            network,
            request.TimeoutS ?? DefaultTimeoutS,
            request.Cpu ?? DefaultCpu,
            request.MemoryMb ?? DefaultMemoryMb,
            request.Pids ?? DefaultPids,
            request.SshAgent ?? false,
            artifacts);
    }

    private static void ValidateVariables(
        ValidationErrors errors, string field, IReadOnlyDictionary<string, string>? variables, int maxCount, int maxLength, int minLength)
    {
        if (variables is null)
        {
            return;
        }
        if (variables.Count > maxCount)
        {
            errors.Add(field, $"at most {maxCount} variables");
            return;
        }
        foreach (var (name, value) in variables)
        {
            if (!EnvName().IsMatch(name))
            {
                errors.Add($"{field}.{Printable(name)}", "names must be letters, digits and '_', not starting with a digit, at most 128");
                continue;
            }
            if (name.StartsWith("HARNESS_", StringComparison.Ordinal))
            {
                errors.Add($"{field}.{name}", "names starting with HARNESS_ are set by Harness");
            }
            if (value is null)
            {
                errors.Add($"{field}.{name}", "must be a string");
            }
            else if (value.Length > maxLength)
            {
                errors.Add($"{field}.{name}", $"must be at most {maxLength} characters");
            }
            else if (value.Length < minLength)
            {
                errors.Add($"{field}.{name}", $"must be at least {minLength} characters, so masking it in logs cannot mask ordinary text");
            }
            else if (value.Contains('\0'))
            {
                errors.Add($"{field}.{name}", "must not contain NUL characters");
            }
        }
    }

    private static string Printable(string name) =>
        name.Length > 64 ? name[..64] + "…" : new string([.. name.Select(c => char.IsControl(c) ? '?' : c)]);
}
