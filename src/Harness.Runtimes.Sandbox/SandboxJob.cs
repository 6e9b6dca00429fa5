namespace Harness.Runtimes.Sandbox;

/// <summary>A sandbox job as the agent received it from the server.</summary>
public sealed record SandboxJob
{
    public required Guid Id { get; init; }

    public required string Image { get; init; }

    public required IReadOnlyList<string> Command { get; init; }

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Passed as environment variables and masked in every line of output.</summary>
    public IReadOnlyDictionary<string, string> Secrets { get; init; } = new Dictionary<string, string>();

    public SandboxNetwork Network { get; init; } = SandboxNetwork.None;

    public required TimeSpan Timeout { get; init; }

    public double Cpus { get; init; } = 1;

    public int MemoryMb { get; init; } = 512;

    public int Pids { get; init; } = 256;

    /// <summary>The workspace's volume; null: an empty scratch workspace that is removed afterwards.</summary>
    public SandboxMount? Workspace { get; init; }

    /// <summary>Forward the agent's SSH agent socket (when it has one configured).</summary>
    public bool ForwardSshAgent { get; init; }

    /// <summary>Glob patterns relative to the workspace (<c>out/*.txt</c>, <c>dist/**</c>) collected as artifacts when the job ends.</summary>
    public IReadOnlyList<string> Artifacts { get; init; } = [];
}

public enum SandboxJobStatus
{
    Succeeded,
    Failed,
    TimedOut,
    Canceled,
}

/// <summary>Why a job ended, as the API reports it in <c>reason</c>.</summary>
public static class SandboxReasons
{
    public const string Exit = "exit";
    public const string OomKilled = "oom_killed";
    public const string Timeout = "timeout";
    public const string Canceled = "canceled";
    public const string ImageNotFound = "image_not_found";
    public const string Error = "error";
}

/// <summary>How a job ended, and the artifact files it left (host paths, valid until <see cref="SandboxRunner.CleanUp"/>).</summary>
public sealed record SandboxResult(
    SandboxJobStatus Status,
    string Reason,
    int? ExitCode,
    string? Message,
    IReadOnlyList<SandboxArtifact> Artifacts);

/// <param name="Name">Relative to the workspace, with forward slashes.</param>
public sealed record SandboxArtifact(string Name, string HostPath, long Length);
