using Harness.Client;
using Harness.Contracts.Nodes;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Listener;

/// <summary>
/// The agent's key: from configuration, else from <c>{StateDir}/agent.key</c>, else obtained once
/// by enrolling with the fleet secret and saved there (mode 0600) for every later start.
/// </summary>
public sealed partial class AgentCredentials(IOptions<AgentOptions> options, HarnessNodeClient client, ILogger<AgentCredentials> logger)
{
    // Heartbeat, pull loop and outbox sender all ask at start-up: only one of them may enroll.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile string? _key;

    public string KeyPath => Path.Combine(options.Value.StateDir, "agent.key");

    public async Task<string> GetKeyAsync(CancellationToken cancellationToken)
    {
        if (_key is { } known)
        {
            return known;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return _key ?? await LoadOrEnrollAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<string> LoadOrEnrollAsync(CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(options.Value.ApiKey))
        {
            return _key = options.Value.ApiKey.Trim();
        }
        if (File.Exists(KeyPath))
        {
            return _key = (await File.ReadAllTextAsync(KeyPath, cancellationToken)).Trim();
        }
        if (string.IsNullOrWhiteSpace(options.Value.EnrollmentSecret))
        {
            throw new AgentConfigurationException(
                $"Agent '{options.Value.Name}' has no API key: set HARNESS_AGENT_KEY (from POST /api/agents) or NODE_AGENT_SHARED_SECRET to enroll.");
        }
        var o = options.Value;
        var enrolled = await client.EnrollAsync(
            new EnrollRequest(o.Name, o.Runtimes, o.Capacity, o.Region, o.Labels, Version: AgentVersion.Current),
            o.EnrollmentSecret, cancellationToken);
        Directory.CreateDirectory(o.StateDir);
        await File.WriteAllTextAsync(KeyPath, enrolled.ApiKey, cancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(KeyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        LogEnrolled(logger, o.Name, enrolled.Agent.Id, KeyPath);
        return _key = enrolled.ApiKey;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Enrolled as {NodeId} (agent {AgentId}); key saved to {KeyPath}")]
    private static partial void LogEnrolled(ILogger logger, string nodeId, Guid agentId, string keyPath);
}

/// <summary>A setting is missing or wrong; retrying will not help until an operator fixes it.</summary>
public sealed class AgentConfigurationException(string message) : Exception(message);
