using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Docker.DotNet;
using Docker.DotNet.Models;
using Harness.Contracts.Runtime;

namespace Harness.Runtimes.Docker;

public sealed partial class DockerWorkspaceRuntime
{
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
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken);
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
}
