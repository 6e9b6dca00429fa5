using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Harness.Agent;

public static class HarnessAgentHost
{
    public static IHost Build(AgentHostSettings settings)
    {
        var builder = Host.CreateApplicationBuilder(settings.Args);
        builder.Configuration.AddInMemoryCollection(AgentEnvironmentAliases.Read());
        builder.Configuration.AddInMemoryCollection(settings.Configuration);
        settings.ConfigureLogging(builder.Logging);
        builder.Services.AddHarnessAgent(builder.Configuration);
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<AgentOptions>>(
            (host, agent) => host.ShutdownTimeout = TimeSpan.FromSeconds(agent.Value.ShutdownTimeoutSec));
        settings.ConfigureServices?.Invoke(builder.Services);
        return builder.Build();
    }
}

public sealed class AgentHostSettings
{
    public string[] Args { get; init; } = [];
    public Dictionary<string, string?> Configuration { get; init; } = [];
    public Action<ILoggingBuilder> ConfigureLogging { get; init; } = _ => { };
    /// <summary>Runs after the agent registered its services, so it may replace any of them.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }
}
