namespace Harness.Agent.Workspaces;

/// <summary>
/// The agent's workspace runtime and the Runtime Agent API it serves (<c>Agent:Workspaces</c>).
/// Backend settings live in sub-sections named after the runtime (<c>Agent:Workspaces:Docker</c>, …).
/// </summary>
public sealed class WorkspacesOptions
{
    public const string Section = "Agent:Workspaces";
    public const string None = "none";

    /// <summary>none, fake, docker or kubernetes (HARNESS_WORKSPACE_RUNTIME).</summary>
    public string Runtime { get; set; } = None;

    /// <summary>Where the Runtime Agent API listens (HARNESS_RUNTIME_LISTEN). Port 0 picks a free port.</summary>
    public string Listen { get; set; } = "http://127.0.0.1:7071";

    /// <summary>
    /// The URL the server should call, when it differs from <see cref="Listen"/> (a load balancer,
    /// a tunnel, a Kubernetes Service). HARNESS_RUNTIME_ADVERTISE_URL.
    /// </summary>
    public string? AdvertiseUrl { get; set; }

    /// <summary>How many workspaces this agent takes; the server never places more.</summary>
    public int Capacity { get; set; } = 20;

    /// <summary>Where archives wait between the runtime and the server.</summary>
    public string? ScratchDir { get; set; }

    public bool Enabled => !string.Equals(Runtime, None, StringComparison.OrdinalIgnoreCase) && !string.IsNullOrWhiteSpace(Runtime);
}
