namespace Harness.Runtimes.Sandbox;

/// <summary>The agent's sandbox runtime (config section <c>Agent:Sandbox</c>).</summary>
public sealed class SandboxOptions
{
    /// <summary><c>none</c> (off), <c>auto</c> (Docker when its engine answers, else bubblewrap), <c>docker</c> or <c>bubblewrap</c>.</summary>
    public string Backend { get; set; } = SandboxBackendNames.None;

    /// <summary>How many sandbox jobs this agent runs at once.</summary>
    public int Capacity { get; set; } = 2;

    /// <summary>Per-job scratch (home, scratch workspace). Removed when each job ends.</summary>
    public string WorkDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "harness-sandbox");

    /// <summary>uid:gid of the sandboxed command; never root.</summary>
    public string User { get; set; } = "1000:1000";

    /// <summary>
    /// Credentials for AI coding agents (e.g. a folder holding <c>.claude/</c> or <c>.config/gh/</c>): mounted
    /// read-only at <c>/run/harness/credentials</c> and copied once into each sandbox's home. Empty: none.
    /// </summary>
    public string? CredentialsDirectory { get; set; }

    /// <summary>An SSH agent's socket forwarded to jobs that ask for it (<c>ssh_agent: true</c>), so no key file enters a sandbox.</summary>
    public string? SshAgentSocket { get; set; }

    /// <summary>Files a job can hand back as artifacts: at most this many…</summary>
    public int MaxArtifacts { get; set; } = 100;

    /// <summary>…of at most this many bytes in all.</summary>
    public long MaxArtifactBytes { get; set; } = 256L * 1024 * 1024;

    public DockerSandboxOptions Docker { get; set; } = new();

    public BubblewrapSandboxOptions Bubblewrap { get; set; } = new();

    /// <summary>Every problem with these options, for a start-up error that lists them all.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!SandboxBackendNames.All.Contains(Backend, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"Agent:Sandbox:Backend: '{Backend}' is not one of {string.Join(", ", SandboxBackendNames.All)}.");
        }
        if (Capacity is < 1 or > 256)
        {
            errors.Add("Agent:Sandbox:Capacity: must be between 1 and 256.");
        }
        if (string.IsNullOrWhiteSpace(WorkDirectory))
        {
            errors.Add("Agent:Sandbox:WorkDirectory: required.");
        }
        if (!SandboxUser.TryParse(User, out _))
        {
            errors.Add($"Agent:Sandbox:User: '{User}' is not uid:gid with both above 0 (a sandbox never runs as root).");
        }
        if (MaxArtifacts < 0)
        {
            errors.Add("Agent:Sandbox:MaxArtifacts: must not be negative.");
        }
        if (MaxArtifactBytes < 0)
        {
            errors.Add("Agent:Sandbox:MaxArtifactBytes: must not be negative.");
        }
        if (!string.IsNullOrWhiteSpace(Docker.Endpoint)
            && (!Uri.TryCreate(Docker.Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("unix" or "tcp" or "http" or "https" or "npipe")))
        {
            errors.Add($"Agent:Sandbox:Docker:Endpoint: '{Docker.Endpoint}' is not a unix://, tcp://, http(s):// or npipe:// URL.");
        }
        return errors;
    }
}

public static class SandboxBackendNames
{
    public const string None = "none";
    public const string Auto = "auto";
    public const string Docker = "docker";
    public const string Bubblewrap = "bubblewrap";

    public static readonly IReadOnlyList<string> All = [None, Auto, Docker, Bubblewrap];
}

/// <summary><c>Agent:Sandbox:Docker</c>.</summary>
public sealed class DockerSandboxOptions
{
    /// <summary>The engine; empty: as the docker CLI resolves it (<c>DOCKER_HOST</c>, then the default socket).</summary>
    public string? Endpoint { get; set; }

    /// <summary>The network a job with <c>network: egress</c> joins.</summary>
    public string EgressNetwork { get; set; } = "bridge";

    /// <summary>Size of the sandbox's /tmp (a tmpfs), in MiB.</summary>
    public int TmpSizeMb { get; set; } = 256;
}

/// <summary><c>Agent:Sandbox:Bubblewrap</c>.</summary>
public sealed class BubblewrapSandboxOptions
{
    /// <summary>The bwrap executable.</summary>
    public string Executable { get; set; } = "bwrap";

    /// <summary>
    /// Where root filesystems live: image <c>name</c> is the directory <c>{RootfsDirectory}/name</c>. The image
    /// <c>host</c> is the host's own /usr, /bin, /lib and /etc, read-only.
    /// </summary>
    public string? RootfsDirectory { get; set; }

    /// <summary>Size of the sandbox's /tmp (a tmpfs), in MiB.</summary>
    public int TmpSizeMb { get; set; } = 256;
}
