using Harness.Client;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Workspaces;

/// <summary>
/// Builds the <see cref="RuntimeAgentClient"/> of an agent, with the agent's derived runtime key. It is the
/// only way the server reaches an agent: every workspace backend looks the same from here.
/// </summary>
public sealed class RuntimeAgents(IHttpClientFactory clients, RuntimeKeys keys)
{
    public const string HttpClientName = "runtime-agents";

    /// <summary>A client of <paramref name="agent"/>'s Runtime Agent API, or null when it has no endpoint.</summary>
    public async Task<RuntimeAgentClient?> ForAsync(HarnessDbContext db, AgentEntity agent, CancellationToken cancellationToken)
    {
        if (agent.Endpoint is null || !Uri.TryCreate(agent.Endpoint, UriKind.Absolute, out var endpoint))
        {
            return null;
        }
        var key = await keys.ForAgentAsync(db, agent.Id, cancellationToken);
        return new RuntimeAgentClient(clients.CreateClient(HttpClientName), endpoint, key);
    }

    /// <summary>A token that ends after <paramref name="seconds"/> or with <paramref name="cancellationToken"/>: one agent call's budget.</summary>
    public static CancellationTokenSource Budget(int seconds, CancellationToken cancellationToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(TimeSpan.FromSeconds(seconds));
        return source;
    }

    internal static void Configure(HttpClient http, IOptions<HarnessServerOptions> options) =>
        // Each call carries its own budget (Budget); the client's timeout only bounds the longest, an archive.
        http.Timeout = TimeSpan.FromSeconds(Math.Max(options.Value.Workspaces.ArchiveTimeoutSec, options.Value.Workspaces.AgentCallTimeoutSec) + 5);
}
