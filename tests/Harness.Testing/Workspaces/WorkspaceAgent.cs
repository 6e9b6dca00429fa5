using Harness.Agent;
using Harness.Agent.Workspaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Harness.Testing.Workspaces;

/// <summary>
/// A real agent serving the Runtime Agent API on a loopback port, over the fake runtime unless told
/// otherwise, heartbeating to <c>serverUrl</c> with <c>apiKey</c>. <see cref="StopAsync"/> takes it
/// away (the health checker then fails); <see cref="StartAsync()"/> brings it back on the same
/// port and state, as a restarted agent process would come back.
/// </summary>
public sealed class WorkspaceAgent : IAsyncDisposable
{
    private readonly Dictionary<string, string?> _configuration;
    private readonly string _root;
    private IHost? _host;

    private WorkspaceAgent(Dictionary<string, string?> configuration, string root)
    {
        _configuration = configuration;
        _root = root;
    }

    public Uri Endpoint { get; private set; } = null!;
    public string StateDir => _configuration["Agent:StateDir"]!;
    public IServiceProvider Services => _host?.Services ?? throw new InvalidOperationException("the agent is stopped");
    public RuntimeApiState RuntimeApi => Services.GetRequiredService<RuntimeApiState>();

    /// <summary>Starts an agent named <paramref name="name"/>; <paramref name="configuration"/> adds or overrides Agent:* keys.</summary>
    public static async Task<WorkspaceAgent> StartAsync(
        Uri serverUrl, string name, string apiKey, IDictionary<string, string?>? configuration = null)
    {
        var root = Directory.CreateTempSubdirectory("harness-workspace-agent-").FullName;
        if (OperatingSystem.IsLinux())
        {
            // Traversable (not listable) by others, as a data folder is: bubblewrap binds volumes as the sandbox user.
            File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }
        var settings = new Dictionary<string, string?>
        {
            ["Agent:ServerUrl"] = serverUrl.AbsoluteUri,
            ["Agent:Name"] = name,
            ["Agent:ApiKey"] = apiKey,
            ["Agent:StateDir"] = Path.Combine(root, "state"),
            ["Agent:HeartbeatIntervalSec"] = "0.2",
            ["Agent:BackoffInitialSec"] = "0.2",
            ["Agent:BackoffMaxSec"] = "1",
            ["Agent:Workspaces:Runtime"] = "fake",
            ["Agent:Workspaces:Listen"] = "http://127.0.0.1:0",
            ["Agent:Workspaces:Fake:Root"] = Path.Combine(root, "fake"),
        };
        foreach (var (key, value) in configuration ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        var agent = new WorkspaceAgent(settings, root);
        await agent.StartAsync();
        return agent;
    }

    /// <summary>(Re)starts the agent process; after a restart it listens on the port it had.</summary>
    public async Task StartAsync()
    {
        _host = HarnessAgentHost.Build(new AgentHostSettings { Configuration = new Dictionary<string, string?>(_configuration) });
        await _host.StartAsync();
        Endpoint = RuntimeApi.Endpoint ?? throw new InvalidOperationException("the agent serves no Runtime Agent API");
        _configuration["Agent:Workspaces:Listen"] = $"http://127.0.0.1:{Endpoint.Port}";
    }

    /// <summary>Waits until a heartbeat delivered the runtime key: from then on the server can call this agent.</summary>
    public async Task WaitForRuntimeKeyAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!RuntimeApi.Known)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the agent received no runtime key from its heartbeats");
            }
            await Task.Delay(20);
        }
    }

    /// <summary>Stops the agent (its Runtime Agent API stops answering); the fake runtime's state stays on disk.</summary>
    public async Task StopAsync()
    {
        if (_host is null)
        {
            return;
        }
        await _host.StopAsync();
        _host.Dispose();
        _host = null;
    }

    /// <summary>Stops the agent and deletes its folder (state and the fake runtime's workspaces).</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        TempFolder.TryDelete(_root);
    }
}
