using System.Text.RegularExpressions;

namespace Harness.Runtimes;

/// <summary>
/// Workspace ids as runtimes accept them, and the names of the resources made for them. An id is
/// a DNS label (lowercase letters, digits, '-', at most 63), so the same id names a Docker
/// container and a Kubernetes object.
/// </summary>
public static partial class WorkspaceIds
{
    public const int MaxLength = 63;

    public static bool IsValid(string? workspaceId) =>
        workspaceId is { Length: > 0 and <= MaxLength } && Pattern().IsMatch(workspaceId);

    public const string Rule = "must be 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit";

    /// <summary>Container, pod and service name: <c>harness-ws-{id}</c>.</summary>
    public static string InstanceName(string workspaceId) => $"harness-ws-{workspaceId}";

    /// <summary>Docker volume and PVC name: <c>harness-vol-{id}</c>.</summary>
    public static string VolumeName(string workspaceId) => $"harness-vol-{workspaceId}";

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}

/// <summary>Labels every runtime puts on what it creates, so a restarted agent can list and reconcile it.</summary>
public static class RuntimeLabels
{
    public const string Managed = "harness.managed";
    public const string Workspace = "harness.workspace";
    public const string Agent = "harness.agent";
    public const string Role = "harness.role";

    public const string RoleInstance = "instance";
    public const string RoleVolume = "volume";
    public const string RoleArchive = "archive";
    public const string RoleRestore = "restore";
}
