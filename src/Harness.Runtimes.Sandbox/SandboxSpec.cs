namespace Harness.Runtimes.Sandbox;

public enum SandboxNetwork
{
    /// <summary>No network at all, loopback included of the host: a private, empty network namespace.</summary>
    None,
    /// <summary>Outbound access through the backend's egress network.</summary>
    Egress,
}

/// <summary>The workspace the sandbox gets read-write at <see cref="SandboxPaths.Workspace"/>.</summary>
/// <param name="HostPath">A directory on the agent's host (bind-mounted); null for a Docker named volume.</param>
/// <param name="DockerVolume">A Docker named volume (the Docker workspace runtime's), mounted by name.</param>
public sealed record SandboxMount(string? HostPath, string? DockerVolume = null)
{
    public static SandboxMount Directory(string path) => new(path);

    public static SandboxMount Volume(string name, string? hostPath = null) => new(hostPath, name);
}

/// <summary>The uid and gid the command runs as; never 0.</summary>
public readonly record struct SandboxUser(int Uid, int Gid)
{
    public override string ToString() => $"{Uid}:{Gid}";

    public static bool TryParse(string? text, out SandboxUser user)
    {
        user = default;
        var parts = (text ?? "").Split(':');
        if (parts.Length != 2
            || !int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var uid)
            || !int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var gid)
            || uid <= 0 || gid <= 0)
        {
            return false;
        }
        user = new SandboxUser(uid, gid);
        return true;
    }
}

/// <summary>Where things are inside every sandbox, whatever the backend.</summary>
public static class SandboxPaths
{
    public const string Workspace = "/workspace";
    public const string Home = "/home/sandbox";
    public const string Tmp = "/tmp";
    public const string Credentials = "/run/harness/credentials";
    public const string SshAgentSocket = "/run/harness/ssh-agent.sock";
}

/// <summary>
/// Everything a backend needs to run one sandbox, fully resolved by <see cref="SandboxRunner"/>: directories exist
/// and belong to <see cref="User"/>, the environment is complete (secrets included), limits are set.
/// </summary>
public sealed record SandboxSpec
{
    /// <summary>Unique per job; names the container, cgroup and scratch folder.</summary>
    public required string Name { get; init; }

    /// <summary>A Docker image, or for bubblewrap the name of a root filesystem (<c>host</c> for the host's /usr).</summary>
    public required string Image { get; init; }

    /// <summary>argv; the first element is the program, looked up on PATH inside the sandbox.</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>The complete environment of the command (HOME, PATH, the job's env and secrets).</summary>
    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    public SandboxNetwork Network { get; init; } = SandboxNetwork.None;

    /// <summary>CPU cores (fractions allowed).</summary>
    public double Cpus { get; init; } = 1;

    public int MemoryMb { get; init; } = 512;

    /// <summary>Most processes and threads alive at once in the sandbox.</summary>
    public int Pids { get; init; } = 256;

    public required SandboxUser User { get; init; }

    /// <summary>Mounted read-write at <see cref="SandboxPaths.Workspace"/>, the working directory.</summary>
    public required SandboxMount Workspace { get; init; }

    /// <summary>A host directory owned by <see cref="User"/>, mounted read-write at <see cref="SandboxPaths.Home"/>.</summary>
    public required string HomeDirectory { get; init; }

    /// <summary>A host directory mounted read-only at <see cref="SandboxPaths.Credentials"/>; null for none.</summary>
    public string? CredentialsDirectory { get; init; }

    /// <summary>An SSH agent's socket on the host, forwarded to <see cref="SandboxPaths.SshAgentSocket"/>; null for none.</summary>
    public string? SshAgentSocket { get; init; }
}
