using System.Collections.Concurrent;
using Docker.DotNet;
using Docker.DotNet.Models;
using Harness.Contracts.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Harness.Runtimes.Docker;

/// <summary>
/// Workspaces as Docker containers (<c>harness-ws-{id}</c>) with a named volume (<c>harness-vol-{id}</c>),
/// through the Engine API. Everything it creates carries <see cref="RuntimeLabels"/>, so a restarted agent
/// lists its instances and volumes from the engine alone: the runtime keeps no state of its own.
/// </summary>
public sealed partial class DockerWorkspaceRuntime : IWorkspaceRuntime, IWorkspaceVolumeSource, IDisposable
{
    /// <summary>Our label for the port the instance serves on (inside the container; in host mode also on the host).</summary>
    internal const string PortLabel = "harness.port";

    private readonly DockerRuntimeOptions _options;
    private readonly ILogger<DockerWorkspaceRuntime> _logger;
    private readonly TimeProvider _time;
    private readonly Lazy<DockerClient> _client;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _workspaceLocks = new(StringComparer.Ordinal);

    public DockerWorkspaceRuntime(IOptions<DockerRuntimeOptions> options, ILogger<DockerWorkspaceRuntime> logger, TimeProvider time)
    {
        _options = options.Value;
        _logger = logger;
        _time = time;
        // Built on first use: a bad endpoint is then an Unavailable answer, not a failure to start the agent.
        _client = new Lazy<DockerClient>(CreateClient, LazyThreadSafetyMode.PublicationOnly);
    }

    public string Name => "docker";

    private DockerClient Client => _client.Value;

    public async Task<InstanceStatus> StartInstanceAsync(string workspaceId, InstanceSpec spec, CancellationToken cancellationToken)
    {
        CheckId(workspaceId);
        CheckSpec(spec);
        using var _ = await LockAsync(workspaceId, cancellationToken);
        return await GuardAsync($"starting workspace {workspaceId}", async () =>
        {
            var container = WorkspaceIds.InstanceName(workspaceId);
            if (await InspectVolumeOrNullAsync(WorkspaceIds.VolumeName(workspaceId), cancellationToken) is null)
            {
                throw RuntimeException.VolumeNotFound(workspaceId);
            }
            var existing = await InspectContainerOrNullAsync(container, cancellationToken);
            var current = existing is null ? null : InstanceStatusMapper.From(workspaceId, existing, _options);
            // Only a running one is kept: "created" means an earlier start did not finish, and is made again.
            if (current?.State == InstanceState.Running && existing!.Config?.Image == spec.Image)
            {
                DockerRuntimeLog.InstanceReused(_logger, workspaceId, container, spec.Image);
                return current;
            }
            // Checked before anything is removed: asking for a missing image leaves the old instance as it was.
            await EnsureImageAsync(spec.Image, cancellationToken);
            if (existing is not null)
            {
                DockerRuntimeLog.InstanceReplaced(_logger, workspaceId, container, existing.State?.Status ?? "unknown", existing.Config?.Image);
                await RemoveContainerAsync(container, graceful: current!.State == InstanceState.Running, cancellationToken);
            }
            var created = await CreateInstanceContainerAsync(workspaceId, spec, cancellationToken);
            try
            {
                await Client.Containers.StartContainerAsync(created, new ContainerStartParameters(), cancellationToken);
            }
            catch (DockerApiException e)
            {
                // The container stays so its state says why (status error with the engine's message).
                throw new RuntimeException(RuntimeErrorKind.Failed,
                    $"workspace {workspaceId}: the container was created but did not start: {DockerErrors.EngineMessage(e)}", e);
            }
            var started = await WaitUntilReadyAsync(workspaceId, container, cancellationToken);
            DockerRuntimeLog.InstanceStarted(_logger, workspaceId, container, spec.Image, started.Upstream);
            return started;
        }, cancellationToken);
    }

    public async Task<bool> DeleteInstanceAsync(string workspaceId, CancellationToken cancellationToken)
    {
        CheckId(workspaceId);
        using var _ = await LockAsync(workspaceId, cancellationToken);
        return await GuardAsync($"deleting the instance of workspace {workspaceId}", async () =>
        {
            var container = WorkspaceIds.InstanceName(workspaceId);
            if (await InspectContainerOrNullAsync(container, cancellationToken) is not { } existing)
            {
                return false;
            }
            await RemoveContainerAsync(container, graceful: existing.State?.Running == true, cancellationToken);
            DockerRuntimeLog.InstanceDeleted(_logger, workspaceId, container);
            return true;
        }, cancellationToken);
    }

    public async Task<InstanceStatus> GetInstanceAsync(string workspaceId, CancellationToken cancellationToken)
    {
        CheckId(workspaceId);
        return await GuardAsync($"reading the instance of workspace {workspaceId}", async () =>
            await InspectContainerOrNullAsync(WorkspaceIds.InstanceName(workspaceId), cancellationToken) is { } container
                ? InstanceStatusMapper.From(workspaceId, container, _options)
                : new InstanceStatus(workspaceId, InstanceState.NotFound), cancellationToken);
    }

    public async Task<IReadOnlyList<InstanceStatus>> ListInstancesAsync(string? prefix, CancellationToken cancellationToken)
    {
        return await GuardAsync("listing instances", async () =>
        {
            var listed = await Client.Containers.ListContainersAsync(new ContainersListParameters
            {
                All = true,
                Filters = LabelFilter(RuntimeLabels.RoleInstance),
            }, cancellationToken);
            var result = new List<InstanceStatus>();
            foreach (var summary in listed)
            {
                if (summary.Labels is null || !summary.Labels.TryGetValue(RuntimeLabels.Workspace, out var workspaceId)
                    || (!string.IsNullOrEmpty(prefix) && !workspaceId.StartsWith(prefix, StringComparison.Ordinal)))
                {
                    continue;
                }
                // The list has no exit code or OOM flag; the inspect has, and a container gone meanwhile is skipped.
                if (await InspectContainerOrNullAsync(summary.ID, cancellationToken) is { } container)
                {
                    result.Add(InstanceStatusMapper.From(workspaceId, container, _options));
                }
            }
            return (IReadOnlyList<InstanceStatus>)[.. result.OrderBy(s => s.WorkspaceId, StringComparer.Ordinal)];
        }, cancellationToken);
    }

    public async Task<RuntimeProbe> ProbeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Client.System.PingAsync(cancellationToken);
            var version = await Client.System.GetVersionAsync(cancellationToken);
            return new RuntimeProbe(true, $"Docker Engine {version.Version} (API {version.APIVersion})");
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return new RuntimeProbe(false, DockerErrors.Map(e, "pinging the Docker engine").Message);
        }
    }

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
    }
}
