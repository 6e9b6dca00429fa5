using System.Text.RegularExpressions;
using Harness.Contracts.Runtime;
using Harness.Runtimes;

namespace Harness.Agent.Workspaces;

/// <summary>Turns a start request into an <see cref="InstanceSpec"/>, listing every field at fault.</summary>
internal static partial class InstanceSpecs
{
    public static InstanceSpec? Validate(InstanceStartRequest? request, Dictionary<string, string[]> errors)
    {
        if (request is null)
        {
            errors["body"] = ["a JSON object with at least \"image\" is required"];
            return null;
        }
        if (string.IsNullOrWhiteSpace(request.Image))
        {
            errors["image"] = ["is required"];
        }
        else if (request.Image.Length > 255 || !ImagePattern().IsMatch(request.Image))
        {
            errors["image"] = ["must be an image reference such as registry/name:tag (no spaces, at most 255 characters)"];
        }
        if (request.Port is < 1 or > 65535)
        {
            errors["port"] = ["must be between 1 and 65535"];
        }
        if (request.MountPath is { } mount && (!mount.StartsWith('/') || mount.Contains("..", StringComparison.Ordinal) || mount == "/"))
        {
            errors["mount_path"] = ["must be an absolute path other than / without '..'"];
        }
        foreach (var key in request.Env?.Keys ?? [])
        {
            if (!EnvPattern().IsMatch(key))
            {
                errors[$"env.{key}"] = ["must be a variable name: letters, digits and '_', not starting with a digit"];
            }
        }
        var limits = request.Resources ?? new ResourceLimits();
        if (limits.Cpu is { } cpu && (double.IsNaN(cpu) || cpu <= 0 || cpu > 256))
        {
            errors["resources.cpu"] = ["must be more than 0 and at most 256 (cores)"];
        }
        if (limits.MemoryMb is < 6 or > 1_048_576)
        {
            errors["resources.memory_mb"] = ["must be between 6 and 1048576"];
        }
        if (limits.Pids is < 1 or > 4_194_304)
        {
            errors["resources.pids"] = ["must be between 1 and 4194304"];
        }
        return errors.Count > 0
            ? null
            : new InstanceSpec(request.Image!, request.Port ?? InstanceSpec.DefaultPort, request.Env ?? new Dictionary<string, string>(),
                request.MountPath ?? InstanceSpec.DefaultMountPath, limits);
    }

    [GeneratedRegex(@"^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex ImagePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvPattern();
}
