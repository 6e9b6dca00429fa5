using System.Globalization;
using System.Net;
using Docker.DotNet.Models;
using Harness.Contracts.Runtime;

namespace Harness.Runtimes.Docker;

/// <summary>A container's state as the Runtime Agent API reports it.</summary>
internal static class InstanceStatusMapper
{
    public static InstanceStatus From(string workspaceId, ContainerInspectResponse container, DockerRuntimeOptions options)
    {
        var s = container.State ?? new State { Status = "unknown" };
        var (state, message) = s.Status switch
        {
            "created" or "restarting" => (InstanceState.Starting, (string?)null),
            "running" => (InstanceState.Running, null),
            "exited" or "dead" or "paused" or "removing" => Ended(s),
            _ => (InstanceState.Error, $"unknown container state '{s.Status}'"),
        };
        // The engine's error on a container that never ran (start failed) or stopped: say it, as an error.
        if (state is InstanceState.Stopped or InstanceState.Starting && !string.IsNullOrEmpty(s.Error))
        {
            (state, message) = (InstanceState.Error, s.Error);
        }
        var upstream = state == InstanceState.Running ? Upstream(container, options) : null;
        return new InstanceStatus(workspaceId, state, container.Config?.Image, upstream, message, StartedAt(s.StartedAt));
    }

    private static (InstanceState, string?) Ended(State s)
    {
        if (s.OOMKilled)
        {
            return (InstanceState.Error, "killed: out of memory (raise resources.memory_mb)");
        }
        if (s.Status == "dead")
        {
            return (InstanceState.Error, "the engine marked the container dead" + (string.IsNullOrEmpty(s.Error) ? "" : $": {s.Error}"));
        }
        if (s.ExitCode != 0)
        {
            return (InstanceState.Error, $"exited with code {s.ExitCode}" + (string.IsNullOrEmpty(s.Error) ? "" : $": {s.Error}"));
        }
        return (InstanceState.Stopped, s.Status == "paused" ? "paused" : null);
    }

    /// <summary>
    /// Host networking: the port we chose, on the publish host. Published: the host port the engine bound
    /// for the container port. Either way reached on loopback when the publish address is a wildcard.
    /// </summary>
    private static string? Upstream(ContainerInspectResponse container, DockerRuntimeOptions options)
    {
        if (container.Config?.Labels is null
            || !container.Config.Labels.TryGetValue(DockerWorkspaceRuntime.PortLabel, out var portLabel)
            || !int.TryParse(portLabel, CultureInfo.InvariantCulture, out var port))
        {
            return null;
        }
        var hostAddress = options.PublishHost;
        int? hostPort = null;
        if (container.HostConfig?.NetworkMode == "host")
        {
            hostPort = port;
        }
        else if (container.NetworkSettings?.Ports is { } ports
                 && ports.TryGetValue($"{port}/tcp", out var bindings) && bindings is { Count: > 0 })
        {
            var binding = bindings[0];
            if (int.TryParse(binding.HostPort, CultureInfo.InvariantCulture, out var published))
            {
                hostPort = published;
                hostAddress = string.IsNullOrEmpty(binding.HostIP) ? hostAddress : binding.HostIP;
            }
        }
        if (hostPort is null || !IPAddress.TryParse(hostAddress, out var ip))
        {
            return null;
        }
        if (ip.Equals(IPAddress.Any))
        {
            ip = IPAddress.Loopback;
        }
        else if (ip.Equals(IPAddress.IPv6Any))
        {
            ip = IPAddress.IPv6Loopback;
        }
        var host = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();
        return $"http://{host}:{hostPort.Value.ToString(CultureInfo.InvariantCulture)}";
    }

    private static DateTimeOffset? StartedAt(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && at.Year > 1
            ? at
            : null;
}
