using System.Globalization;
using System.Net;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Harness.Runtimes.Sandbox.Docker;

/// <summary>
/// The sandbox as a Docker container: read-only root, every capability dropped, no-new-privileges, a non-root
/// user, network <c>none</c> unless egress is asked for, memory (no swap), CPU and pids limits, a tmpfs /tmp,
/// and only the workspace and home mounted read-write. Never privileged.
/// </summary>
public sealed partial class DockerSandboxBackend : ISandboxBackend, IDisposable
{
    public const string ManagedLabel = "harness.managed";
    public const string RoleLabel = "harness.role";
    public const string Role = "sandbox";

    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(10);

    private readonly SandboxOptions _options;
    private readonly ILogger<DockerSandboxBackend> _logger;
    private readonly Lazy<DockerClient> _client;

    public DockerSandboxBackend(IOptions<SandboxOptions> options, ILogger<DockerSandboxBackend> logger)
    {
        _options = options.Value;
        _logger = logger;
        _client = new Lazy<DockerClient>(CreateClient, LazyThreadSafetyMode.PublicationOnly);
    }

    public string Name => SandboxBackendNames.Docker;

    private DockerClient Client => _client.Value;

    public async Task<string?> UnavailableReasonAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await Client.System.PingAsync(timeout.Token);
            return null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return $"the Docker engine does not answer ({Innermost(ex).Message})";
        }
    }

    public async Task<SandboxExit> RunAsync(SandboxSpec spec, ISandboxOutput output, CancellationToken stop)
    {
        string container;
        try
        {
            await EnsureImageAsync(spec.Image, stop);
            container = await CreateAsync(spec, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped before it started: a create the engine finished anyway leaves a container by that name.
            await RemoveAsync(spec.Name);
            return new SandboxExit(null, false, Killed: true);
        }
        try
        {
            return await RunContainerAsync(container, spec, output, stop);
        }
        finally
        {
            await RemoveAsync(container);
        }
    }

    private async Task<SandboxExit> RunContainerAsync(string container, SandboxSpec spec, ISandboxOutput output, CancellationToken stop)
    {
        // Attached before the start, as `docker run` does: the stream carries the container's stdio itself, so the
        // last bytes written before it exits are never raced by the log driver. It ends when the container does and
        // is read to its end even after a kill, so no line is lost.
        MultiplexedStream attached;
        try
        {
            attached = await Client.Containers.AttachContainerAsync(
                container, new ContainerAttachParameters { Stream = true, Stdout = true, Stderr = true }, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return new SandboxExit(null, false, Killed: true);
        }
        catch (DockerApiException ex)
        {
            throw new SandboxException(SandboxErrorKind.Unavailable, $"the Docker engine cannot attach to the sandbox: {EngineMessage(ex)}", ex);
        }
        using var _ = attached;
        try
        {
            await Client.Containers.StartContainerAsync(container, new ContainerStartParameters(), stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return new SandboxExit(null, false, Killed: true);
        }
        catch (DockerApiException ex)
        {
            throw new SandboxException(SandboxErrorKind.Invalid, $"the Docker engine cannot start the sandbox: {EngineMessage(ex)}", ex);
        }
        LogStarted(_logger, spec.Name, spec.Image);

        var logs = PumpOutputAsync(container, attached, output);
        var killed = false;
        try
        {
            await Client.Containers.WaitContainerAsync(container, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            killed = true;
            await KillAsync(container);
            using var grace = new CancellationTokenSource(KillGrace);
            try
            {
                await Client.Containers.WaitContainerAsync(container, grace.Token);
            }
            catch (OperationCanceledException)
            {
                LogKillSlow(_logger, spec.Name);
            }
        }
        using (var drain = new CancellationTokenSource(KillGrace))
        {
            await logs.WaitAsync(drain.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        var inspected = await Client.Containers.InspectContainerAsync(container, CancellationToken.None);
        var state = inspected.State;
        var exitCode = state is null ? (int?)null : (int)state.ExitCode;
        return new SandboxExit(exitCode, state?.OOMKilled == true, killed, state?.Error is { Length: > 0 } error ? error : null);
    }

    private async Task EnsureImageAsync(string image, CancellationToken cancellationToken)
    {
        try
        {
            await Client.Images.InspectImageAsync(image, cancellationToken);
        }
        catch (DockerApiException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            throw new SandboxException(SandboxErrorKind.ImageNotFound, $"image '{image}' is not present on this agent's Docker engine", ex);
        }
        catch (Exception ex) when (ex is not DockerApiException and not OperationCanceledException)
        {
            throw new SandboxException(SandboxErrorKind.Unavailable, $"the Docker engine does not answer ({Innermost(ex).Message})", ex);
        }
    }

    private async Task<string> CreateAsync(SandboxSpec spec, CancellationToken cancellationToken)
    {
        var mounts = new List<Mount>();
        if (spec.Workspace.DockerVolume is { } volume)
        {
            mounts.Add(new Mount { Type = "volume", Source = volume, Target = SandboxPaths.Workspace });
        }
        else if (spec.Workspace.HostPath is { } workspace)
        {
            mounts.Add(Bind(workspace, SandboxPaths.Workspace, readOnly: false));
        }
        else
        {
            throw new SandboxException(SandboxErrorKind.Invalid, "the sandbox has no workspace to mount");
        }
        mounts.Add(Bind(spec.HomeDirectory, SandboxPaths.Home, readOnly: false));
        if (spec.CredentialsDirectory is { } credentials)
        {
            mounts.Add(Bind(credentials, SandboxPaths.Credentials, readOnly: true));
        }
        if (spec.SshAgentSocket is { } socket)
        {
            mounts.Add(Bind(socket, SandboxPaths.SshAgentSocket, readOnly: false));
        }

        var memory = (long)spec.MemoryMb * 1024 * 1024;
        var parameters = new CreateContainerParameters
        {
            Name = spec.Name,
            Image = spec.Image,
            Cmd = [.. spec.Command],
            Env = [.. spec.Environment.Select(e => $"{e.Key}={e.Value}")],
            User = spec.User.ToString(),
            WorkingDir = SandboxPaths.Workspace,
            Labels = new Dictionary<string, string> { [ManagedLabel] = "true", [RoleLabel] = Role },
            NetworkDisabled = spec.Network == SandboxNetwork.None,
            HostConfig = new HostConfig
            {
                Mounts = mounts,
                NetworkMode = spec.Network == SandboxNetwork.None ? "none" : _options.Docker.EgressNetwork,
                ReadonlyRootfs = true,
                CapDrop = ["ALL"],
                SecurityOpt = ["no-new-privileges:true"],
                Privileged = false,
                Memory = memory,
                MemorySwap = memory,
                NanoCPUs = (long)Math.Round(spec.Cpus * 1_000_000_000),
                PidsLimit = spec.Pids,
                Tmpfs = new Dictionary<string, string>
                {
                    [SandboxPaths.Tmp] = string.Create(CultureInfo.InvariantCulture, $"rw,nosuid,nodev,size={_options.Docker.TmpSizeMb}m,mode=1777"),
                },
                IpcMode = "private",
                RestartPolicy = new RestartPolicy { Name = RestartPolicyKind.No },
                // No --init: the engine mounts docker-init where a non-root user may not reach it. The command is
                // PID 1 of its own namespace; whatever it leaves running dies with it when the container stops.
            },
        };
        try
        {
            var response = await Client.Containers.CreateContainerAsync(parameters, cancellationToken);
            return response.ID;
        }
        catch (DockerApiException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            throw new SandboxException(SandboxErrorKind.ImageNotFound, $"image '{spec.Image}' is not present on this agent's Docker engine", ex);
        }
        catch (DockerApiException ex)
        {
            throw new SandboxException(SandboxErrorKind.Invalid, $"the Docker engine refused the sandbox: {EngineMessage(ex)}", ex);
        }
    }

    private static Mount Bind(string source, string target, bool readOnly) =>
        new() { Type = "bind", Source = source, Target = target, ReadOnly = readOnly };

    private async Task PumpOutputAsync(string container, MultiplexedStream stream, ISandboxOutput output)
    {
        var stdout = new OutputLines.Splitter(SandboxStream.Stdout, output);
        var stderr = new OutputLines.Splitter(SandboxStream.Stderr, output);
        try
        {
            var buffer = new byte[16 * 1024];
            while (true)
            {
                var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, CancellationToken.None);
                if (read.EOF)
                {
                    break;
                }
                var splitter = read.Target == MultiplexedStream.TargetStream.StandardError ? stderr : stdout;
                await splitter.WriteAsync(buffer.AsMemory(0, read.Count));
            }
        }
        catch (Exception ex) when (ex is DockerApiException or IOException or HttpRequestException or ObjectDisposedException)
        {
            LogLogsFailed(_logger, container, ex.Message);
        }
        // A last line without a newline still counts, even when the stream broke off after it.
        await stdout.FlushAsync();
        await stderr.FlushAsync();
    }

    private async Task KillAsync(string container)
    {
        try
        {
            await Client.Containers.KillContainerAsync(container, new ContainerKillParameters { Signal = "KILL" }, CancellationToken.None);
        }
        catch (DockerApiException ex) when (ex.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            // Gone or already stopped: nothing left to kill.
        }
    }

    private async Task RemoveAsync(string container)
    {
        try
        {
            await Client.Containers.RemoveContainerAsync(container, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, CancellationToken.None);
        }
        catch (Exception ex) when (ex is DockerApiException or HttpRequestException or IOException)
        {
            LogRemoveFailed(_logger, container, ex.Message);
        }
    }

    private DockerClient CreateClient()
    {
        var builder = new DockerClientBuilder();
        if (!string.IsNullOrWhiteSpace(_options.Docker.Endpoint))
        {
            builder = builder.WithEndpoint(new Uri(_options.Docker.Endpoint));
        }
        return builder.Build();
    }

    private static string EngineMessage(DockerApiException ex) =>
        string.IsNullOrWhiteSpace(ex.ResponseBody) ? ex.Message : ex.ResponseBody.Trim();

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }
        return ex;
    }

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {Name} started from {Image}")]
    private static partial void LogStarted(ILogger logger, string name, string image);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox {Name} did not stop within the grace period after SIGKILL")]
    private static partial void LogKillSlow(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox container {Container}: reading its output failed: {Reason}")]
    private static partial void LogLogsFailed(ILogger logger, string container, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox container {Container}: cannot remove it: {Reason}")]
    private static partial void LogRemoveFailed(ILogger logger, string container, string reason);
}
