using Docker.DotNet.Models;
using Harness.Contracts.Runtime;

namespace Harness.Runtimes.Docker.Tests;

public sealed class InstanceStatusMapperTests
{
    private static readonly DockerRuntimeOptions Options = new() { PublishHost = "127.0.0.1" };

    [Theory]
    [InlineData("created", 0, false, InstanceState.Starting)]
    [InlineData("restarting", 0, false, InstanceState.Starting)]
    [InlineData("running", 0, false, InstanceState.Running)]
    [InlineData("exited", 0, false, InstanceState.Stopped)]
    [InlineData("paused", 0, false, InstanceState.Stopped)]
    [InlineData("exited", 1, false, InstanceState.Error)]
    [InlineData("exited", 137, true, InstanceState.Error)]
    [InlineData("dead", 0, false, InstanceState.Error)]
    public void From_MapsTheContainerState(string status, long exitCode, bool oomKilled, InstanceState expected)
    {
        var mapped = InstanceStatusMapper.From("ws", Container(status, exitCode, oomKilled, hostNetwork: true), Options);

        Assert.Equal(expected, mapped.State);
        Assert.Equal(expected == InstanceState.Running ? "http://127.0.0.1:41000" : null, mapped.Upstream);
    }

    [Fact]
    public void From_OomKilled_SaysSo()
    {
        var mapped = InstanceStatusMapper.From("ws", Container("exited", 137, oomKilled: true, hostNetwork: true), Options);

        Assert.Contains("out of memory", mapped.Message);
    }

    [Fact]
    public void From_ExitedWithACode_SaysWhichCode()
    {
        var mapped = InstanceStatusMapper.From("ws", Container("exited", 3, oomKilled: false, hostNetwork: true), Options);

        Assert.Equal("exited with code 3", mapped.Message);
    }

    [Fact]
    public void From_PublishedPort_IsTheUpstreamOnThePublishedHostPort()
    {
        var container = Container("running", 0, false, hostNetwork: false);
        container.NetworkSettings = new NetworkSettings
        {
            Ports = new Dictionary<string, IList<PortBinding>> { ["41000/tcp"] = [new PortBinding { HostIP = "0.0.0.0", HostPort = "49153" }] },
        };

        var mapped = InstanceStatusMapper.From("ws", container, Options);

        Assert.Equal("http://127.0.0.1:49153", mapped.Upstream); // a wildcard bind is reached on loopback
    }

    [Fact]
    public void From_PublishedPortNotYetBound_HasNoUpstream()
    {
        var mapped = InstanceStatusMapper.From("ws", Container("running", 0, false, hostNetwork: false), Options);

        Assert.Null(mapped.Upstream);
    }

    [Fact]
    public void From_StartedAt_IsParsedAndTheZeroTimeIsNull()
    {
        var running = Container("running", 0, false, hostNetwork: true);
        running.State!.StartedAt = "2026-11-23T09:00:00.1234567Z";
        var created = Container("created", 0, false, hostNetwork: true);
        created.State!.StartedAt = "0001-01-01T00:00:00Z";

        Assert.Equal(new DateTimeOffset(2026, 11, 23, 9, 0, 0, 123, TimeSpan.Zero).AddTicks(4567),
            InstanceStatusMapper.From("ws", running, Options).StartedAt);
        Assert.Null(InstanceStatusMapper.From("ws", created, Options).StartedAt);
    }

    private static ContainerInspectResponse Container(string status, long exitCode, bool oomKilled, bool hostNetwork) => new()
    {
        State = new State { Status = status, ExitCode = exitCode, OOMKilled = oomKilled, Running = status == "running" },
        Config = new ContainerConfig
        {
            Image = "img:1",
            Labels = new Dictionary<string, string> { [DockerWorkspaceRuntime.PortLabel] = "41000" },
        },
        HostConfig = new HostConfig { NetworkMode = hostNetwork ? "host" : "bridge" },
    };
}
