namespace Harness.Runtimes.Sandbox;

/// <summary>
/// One way of isolating a command: a hardened Docker container, or a bubblewrap sandbox on hosts without Docker.
/// Every backend enforces the same rules (<see cref="SandboxSpec"/>): no network unless asked, a non-root user,
/// a read-only root filesystem, no capabilities, no new privileges, CPU/memory/pids limits, and only the
/// workspace, the home and /tmp writable. One test suite holds every backend to them.
/// </summary>
public interface ISandboxBackend
{
    /// <summary>The name operators configure and the job record shows: <c>docker</c> or <c>bubblewrap</c>.</summary>
    string Name { get; }

    /// <summary>Null when this host can run the backend; otherwise why not, for the agent's start-up log.</summary>
    Task<string?> UnavailableReasonAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Runs <paramref name="spec"/> to its end, writing its output line by line to <paramref name="output"/>.
    /// When <paramref name="stop"/> fires the backend kills everything in the sandbox within seconds and returns
    /// with <see cref="SandboxExit.Killed"/> set; it never throws <see cref="OperationCanceledException"/> for it.
    /// Before returning it removes what it created (container, processes, cgroups). Throws
    /// <see cref="SandboxException"/> when the sandbox cannot be started at all.
    /// </summary>
    Task<SandboxExit> RunAsync(SandboxSpec spec, ISandboxOutput output, CancellationToken stop);
}

/// <summary>How a sandboxed command ended, as the backend saw it.</summary>
/// <param name="ExitCode">The command's exit code; null when it never ran or was killed without one.</param>
/// <param name="OomKilled">The kernel killed a process of the sandbox for exceeding its memory limit.</param>
/// <param name="Killed">The backend killed the sandbox because stop was requested.</param>
/// <param name="Detail">Extra words for the job record (never secrets).</param>
public sealed record SandboxExit(int? ExitCode, bool OomKilled, bool Killed, string? Detail = null);

public enum SandboxStream
{
    Stdout,
    Stderr,
    /// <summary>Lines the runtime itself writes (limits, timeouts, kills).</summary>
    System,
}

/// <summary>Where a sandbox's output goes. Backends may call it from a stdout and a stderr reader at once.</summary>
public interface ISandboxOutput
{
    ValueTask WriteLineAsync(SandboxStream stream, string line, CancellationToken cancellationToken);
}

public enum SandboxErrorKind
{
    /// <summary>The image (Docker) or root filesystem (bubblewrap) does not exist.</summary>
    ImageNotFound,
    /// <summary>The backend cannot run here (no engine, no bwrap, no user namespaces, no cgroups).</summary>
    Unavailable,
    /// <summary>The spec asks for something this backend cannot do.</summary>
    Invalid,
}

public sealed class SandboxException(SandboxErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public SandboxErrorKind Kind { get; } = kind;
}
