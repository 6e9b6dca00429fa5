namespace Harness.Runtimes.Docker;

/// <summary>How the Docker runtime reaches its engine and runs workspaces (agent config section <c>Agent:Workspaces:Docker</c>).</summary>
public sealed class DockerRuntimeOptions
{
    /// <summary>
    /// The engine, e.g. <c>unix:///var/run/docker.sock</c> or <c>tcp://127.0.0.1:2375</c>. Empty: as the
    /// docker CLI resolves it (<c>DOCKER_HOST</c>, the current context, then the default socket).
    /// </summary>
    public string? Endpoint { get; set; }

    /// <summary>Written into the <c>harness.agent</c> label; a restarted agent lists only what carries its name.</summary>
    public string AgentName { get; set; } = Environment.MachineName.ToLowerInvariant();

    /// <summary>How an instance's port is reached; see <see cref="DockerNetworkMode"/>.</summary>
    public DockerNetworkMode NetworkMode { get; set; } = DockerNetworkMode.Publish;

    /// <summary>In <see cref="DockerNetworkMode.Publish"/> mode, the Docker network the instances join.</summary>
    public string Network { get; set; } = "bridge";

    /// <summary>The host address ports are published on and upstreams point at. Loopback: the agent's proxy is local.</summary>
    public string PublishHost { get; set; } = "127.0.0.1";

    /// <summary>Limits for a workspace that does not ask for its own.</summary>
    public double DefaultCpu { get; set; } = 1.0;

    public int DefaultMemoryMb { get; set; } = 1024;

    public int DefaultPids { get; set; } = 512;

    /// <summary>
    /// The image of the archive and restore helper containers. They are created but never started (the
    /// Engine API copies files of a stopped container), so any image will do. Empty: a one-directory image
    /// the runtime imports itself, which needs no registry.
    /// </summary>
    public string? HelperImage { get; set; }

    /// <summary>Pull an image that is not present locally. Off: a missing image is an error at once.</summary>
    public bool PullMissingImages { get; set; }

    /// <summary>How long a start waits for the instance to accept TCP connections before it reports <c>starting</c>.</summary>
    public int ReadyTimeoutMs { get; set; } = 15_000;

    /// <summary>How long the instance gets to exit on SIGTERM before it is killed.</summary>
    public int StopTimeoutSec { get; set; } = 10;

    /// <summary>Every problem with these options, for a start-up error that lists them all.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!string.IsNullOrWhiteSpace(Endpoint)
            && (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("unix" or "tcp" or "http" or "https" or "npipe")))
        {
            errors.Add($"Agent:Workspaces:Docker:Endpoint: '{Endpoint}' is not a unix://, tcp://, http(s):// or npipe:// URL.");
        }
        if (string.IsNullOrWhiteSpace(AgentName))
        {
            errors.Add("Agent:Workspaces:Docker:AgentName: required.");
        }
        if (!Enum.IsDefined(NetworkMode))
        {
            errors.Add($"Agent:Workspaces:Docker:NetworkMode: '{NetworkMode}' is not one of {string.Join(", ", Enum.GetNames<DockerNetworkMode>())}.");
        }
        if (NetworkMode == DockerNetworkMode.Publish && string.IsNullOrWhiteSpace(Network))
        {
            errors.Add("Agent:Workspaces:Docker:Network: required when Agent:Workspaces:Docker:NetworkMode is Publish.");
        }
        if (!System.Net.IPAddress.TryParse(PublishHost, out _))
        {
            errors.Add($"Agent:Workspaces:Docker:PublishHost: '{PublishHost}' is not an IP address.");
        }
        if (DefaultCpu is <= 0 or > 1024)
        {
            errors.Add($"Agent:Workspaces:Docker:DefaultCpu: {DefaultCpu} is out of range (0, 1024].");
        }
        if (DefaultMemoryMb is < 6 or > 4_194_304)
        {
            errors.Add($"Agent:Workspaces:Docker:DefaultMemoryMb: {DefaultMemoryMb} is out of range [6, 4194304] (Docker's minimum is 6 MB).");
        }
        if (DefaultPids is < 1 or > 4_194_304)
        {
            errors.Add($"Agent:Workspaces:Docker:DefaultPids: {DefaultPids} is out of range [1, 4194304].");
        }
        if (ReadyTimeoutMs is < 0 or > 600_000)
        {
            errors.Add($"Agent:Workspaces:Docker:ReadyTimeoutMs: {ReadyTimeoutMs} is out of range [0, 600000].");
        }
        if (StopTimeoutSec is < 0 or > 600)
        {
            errors.Add($"Agent:Workspaces:Docker:StopTimeoutSec: {StopTimeoutSec} is out of range [0, 600].");
        }
        return errors;
    }
}

/// <summary>How the upstream of an instance is reached.</summary>
public enum DockerNetworkMode
{
    /// <summary>
    /// The instance joins <see cref="DockerRuntimeOptions.Network"/> and its port is published on
    /// <see cref="DockerRuntimeOptions.PublishHost"/> at an ephemeral host port. The default on a normal host.
    /// </summary>
    Publish,

    /// <summary>
    /// The instance shares the host's network; the runtime picks a free port on the publish host and passes
    /// it as <c>PORT</c> (and the address as <c>HOST</c>). For engines without a bridge (<c>dockerd --bridge=none</c>).
    /// </summary>
    Host,
}
