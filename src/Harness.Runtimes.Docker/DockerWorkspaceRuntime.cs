using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
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
public sealed partial class DockerWorkspaceRuntime : IWorkspaceRuntime, IDisposable
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
            if (await InspectContainerOrNullAsync(container, cancellationToken) is { } existing)
            {
                var status = InstanceStatusMapper.From(workspaceId, existing, _options);
                // Only a running one is kept: "created" means an earlier start did not finish, and is made again.
                if (status.State == InstanceState.Running && existing.Config?.Image == spec.Image)
                {
                    DockerRuntimeLog.InstanceReused(_logger, workspaceId, container, spec.Image);
                    return status;
                }
                DockerRuntimeLog.InstanceReplaced(_logger, workspaceId, container, existing.State?.Status ?? "unknown", existing.Config?.Image);
                await RemoveContainerAsync(container, graceful: status.State == InstanceState.Running, cancellationToken);
            }
            await EnsureImageAsync(spec.Image, cancellationToken);
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

    private async Task<string> CreateInstanceContainerAsync(string workspaceId, InstanceSpec spec, CancellationToken cancellationToken)
    {
        var host = _options.NetworkMode == DockerNetworkMode.Host;
        // Host mode shares the host's ports, so the image cannot have its own: it gets a free one in PORT.
        var port = host ? FreeHostPort() : spec.Port;
        var env = new Dictionary<string, string>(spec.Env, StringComparer.Ordinal) { ["PORT"] = port.ToString(CultureInfo.InvariantCulture) };
        if (host)
        {
            env["HOST"] = _options.PublishHost;
        }
        var limits = spec.Resources;
        var exposed = $"{port}/tcp";
        var parameters = new CreateContainerParameters
        {
            Name = WorkspaceIds.InstanceName(workspaceId),
            Image = spec.Image,
            Env = [.. env.Select(e => $"{e.Key}={e.Value}")],
            Labels = Labels(workspaceId, RuntimeLabels.RoleInstance, new() { [PortLabel] = port.ToString(CultureInfo.InvariantCulture) }),
            ExposedPorts = host ? null : new Dictionary<string, EmptyStruct> { [exposed] = default },
            StopTimeout = TimeSpan.FromSeconds(_options.StopTimeoutSec),
            HostConfig = new HostConfig
            {
                Mounts = [new Mount { Type = "volume", Source = WorkspaceIds.VolumeName(workspaceId), Target = spec.MountPath }],
                NetworkMode = host ? "host" : _options.Network,
                PortBindings = host ? new Dictionary<string, IList<PortBinding>>() : new Dictionary<string, IList<PortBinding>>
                {
                    // An empty host port: the engine picks a free one, read back from the inspect.
                    [exposed] = [new PortBinding { HostIP = _options.PublishHost, HostPort = "" }],
                },
                NanoCPUs = (long)Math.Round((limits.Cpu ?? _options.DefaultCpu) * 1_000_000_000),
                Memory = (long)(limits.MemoryMb ?? _options.DefaultMemoryMb) * 1024 * 1024,
                PidsLimit = limits.Pids ?? _options.DefaultPids,
                Privileged = false,
                // The control plane owns the lifecycle: a crashed instance shows as error and the server starts
                // it again; an engine-side restart loop would hide the failure behind "starting".
                RestartPolicy = new RestartPolicy { Name = RestartPolicyKind.No },
                // A tiny init as PID 1 forwards SIGTERM and reaps zombies, so stops are quick and clean.
                Init = true,
            },
        };
        try
        {
            var response = await Client.Containers.CreateContainerAsync(parameters, cancellationToken);
            return response.ID ?? throw new RuntimeException(RuntimeErrorKind.Failed, "the engine created the container but returned no id");
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw RuntimeException.ImageMissing(spec.Image); // removed between the check and the create
        }
    }

    /// <summary>Waits until the upstream accepts TCP connections, the container stops, or the ready timeout passes.</summary>
    private async Task<InstanceStatus> WaitUntilReadyAsync(string workspaceId, string container, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        while (true)
        {
            var inspected = await InspectContainerOrNullAsync(container, cancellationToken)
                ?? throw new RuntimeException(RuntimeErrorKind.Failed, $"workspace {workspaceId}: the container vanished while starting");
            var status = InstanceStatusMapper.From(workspaceId, inspected, _options);
            if (status.State is not (InstanceState.Running or InstanceState.Starting))
            {
                return status;
            }
            if (status.Upstream is { } upstream && await AcceptsConnectionsAsync(new Uri(upstream), cancellationToken))
            {
                return status;
            }
            if (_time.GetElapsedTime(started).TotalMilliseconds >= _options.ReadyTimeoutMs)
            {
                DockerRuntimeLog.InstanceNotReady(_logger, workspaceId, container, status.Upstream ?? "(no port)", _options.ReadyTimeoutMs);
                return status with
                {
                    State = InstanceState.Starting,
                    Upstream = null,
                    Message = $"the container runs but nothing accepts connections on its port after {_options.ReadyTimeoutMs} ms",
                };
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken);
        }
    }

    private static async Task<bool> AcceptsConnectionsAsync(Uri upstream, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(upstream.Host, upstream.Port, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    private int FreeHostPort()
    {
        using var listener = new TcpListener(IPAddress.Parse(_options.PublishHost), 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task RemoveContainerAsync(string container, bool graceful, CancellationToken cancellationToken)
    {
        try
        {
            if (graceful)
            {
                await Client.Containers.StopContainerAsync(container,
                    new ContainerStopParameters { WaitBeforeKillSeconds = (uint)_options.StopTimeoutSec }, cancellationToken);
            }
            await Client.Containers.RemoveContainerAsync(container, new ContainerRemoveParameters { Force = true }, cancellationToken);
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            // Gone already: what a delete wants.
        }
    }

    private async Task EnsureImageAsync(string image, CancellationToken cancellationToken)
    {
        try
        {
            await Client.Images.InspectImageAsync(image, cancellationToken);
            return;
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            if (!_options.PullMissingImages)
            {
                throw RuntimeException.ImageMissing(image);
            }
        }
        DockerRuntimeLog.PullingImage(_logger, image);
        try
        {
            await Client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = image }, null, new Progress<JSONMessage>(), cancellationToken);
            await Client.Images.InspectImageAsync(image, cancellationToken);
        }
        catch (DockerApiException e) when (e.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                                           or HttpStatusCode.InternalServerError)
        {
            throw new RuntimeException(RuntimeErrorKind.ImageNotFound,
                $"image '{image}' is not available locally and could not be pulled: {DockerErrors.EngineMessage(e)}", e);
        }
    }

    private async Task<ContainerInspectResponse?> InspectContainerOrNullAsync(string nameOrId, CancellationToken cancellationToken)
    {
        try
        {
            return await Client.Containers.InspectContainerAsync(nameOrId, cancellationToken);
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

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
