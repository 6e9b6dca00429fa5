using Docker.DotNet;

namespace Harness.Runtimes.Docker;

// Talking to the engine: the client, labels and filters, per-workspace locks, argument checks and error mapping.
public sealed partial class DockerWorkspaceRuntime
{
    private Dictionary<string, string> Labels(string workspaceId, string role, Dictionary<string, string>? extra = null)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [RuntimeLabels.Managed] = "true",
            [RuntimeLabels.Workspace] = workspaceId,
            [RuntimeLabels.Agent] = _options.AgentName,
            [RuntimeLabels.Role] = role,
        };
        foreach (var (key, value) in extra ?? [])
        {
            labels[key] = value;
        }
        return labels;
    }

    /// <summary>The engine's filter for what this agent made in one role; a filter's values are ANDed.</summary>
    private IDictionary<string, IDictionary<string, bool>> LabelFilter(string role) =>
        new Dictionary<string, IDictionary<string, bool>>
        {
            ["label"] = new Dictionary<string, bool>
            {
                [$"{RuntimeLabels.Managed}=true"] = true,
                [$"{RuntimeLabels.Agent}={_options.AgentName}"] = true,
                [$"{RuntimeLabels.Role}={role}"] = true,
            },
        };

    private async Task<IDisposable> LockAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var gate = _workspaceLocks.GetOrAdd(workspaceId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Releaser(gate);
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }

    /// <summary>Runs an engine conversation; whatever fails comes out as a <see cref="RuntimeException"/>.</summary>
    private static async Task<T> GuardAsync<T>(string doing, Func<Task<T>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await body();
        }
        catch (Exception e) when (e is not RuntimeException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            throw DockerErrors.Map(e, doing);
        }
    }

    private static async Task GuardAsync(string doing, Func<Task> body, CancellationToken cancellationToken) =>
        await GuardAsync<bool>(doing, async () =>
        {
            await body();
            return true;
        }, cancellationToken);

    private static void CheckId(string workspaceId)
    {
        if (!WorkspaceIds.IsValid(workspaceId))
        {
            throw new RuntimeException(RuntimeErrorKind.Invalid, $"workspace id '{workspaceId}' {WorkspaceIds.Rule}");
        }
    }

    private static void CheckSpec(InstanceSpec spec)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(spec.Image))
        {
            errors.Add("image: required");
        }
        if (spec.Port is < 1 or > 65535)
        {
            errors.Add($"port: {spec.Port} is not a TCP port (1-65535)");
        }
        if (string.IsNullOrWhiteSpace(spec.MountPath) || !spec.MountPath.StartsWith('/') || spec.MountPath == "/")
        {
            errors.Add($"mount_path: '{spec.MountPath}' must be an absolute path other than /");
        }
        foreach (var name in spec.Env.Keys.Where(k => k.Length == 0 || k.Contains('=') || k.Contains('\0')))
        {
            errors.Add($"env: '{name}' is not a variable name");
        }
        if (spec.Resources is { Cpu: <= 0 } or { MemoryMb: < 6 } or { Pids: < 1 })
        {
            errors.Add("resources: cpu must be > 0, memory_mb at least 6, pids at least 1");
        }
        if (errors.Count > 0)
        {
            throw new RuntimeException(RuntimeErrorKind.Invalid, string.Join("; ", errors));
        }
    }

    private DockerClient CreateClient()
    {
        var builder = new DockerClientBuilder();
        if (!string.IsNullOrWhiteSpace(_options.Endpoint))
        {
            builder = builder.WithEndpoint(new Uri(_options.Endpoint));
        }
        return builder.Build();
    }
}
