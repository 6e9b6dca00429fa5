using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Harness.Runtimes.Docker.Tests;

public sealed class DockerRuntimeOptionsTests
{
    [Fact]
    public void Validate_Defaults_HaveNoErrors()
    {
        Assert.Empty(new DockerRuntimeOptions().Validate());
    }

    [Fact]
    public void Validate_ListsEveryError()
    {
        var errors = new DockerRuntimeOptions
        {
            Endpoint = "ftp://engine",
            AgentName = " ",
            PublishHost = "localhost",
            DefaultCpu = 0,
            DefaultMemoryMb = 1,
            DefaultPids = 0,
        }.Validate();

        Assert.Equal(6, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("Agent:Workspaces:Docker:Endpoint:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:Workspaces:Docker:PublishHost:", StringComparison.Ordinal));
    }

    [Fact]
    public void AddDockerWorkspaceRuntime_BindsTheSectionAndRegistersTheRuntime()
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Docker:Endpoint"] = "unix:///tmp/none.sock",
            ["Docker:AgentName"] = "agent-7",
            ["Docker:NetworkMode"] = "host",
            ["Docker:DefaultPids"] = "99",
        }).Build().GetSection("Docker");
        using var provider = new ServiceCollection()
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .AddSingleton(typeof(ILogger<>), typeof(NullLogger<>))
            .AddDockerWorkspaceRuntime(section)
            .BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<DockerRuntimeOptions>>().Value;
        var runtime = provider.GetRequiredService<IWorkspaceRuntime>();

        Assert.Equal(DockerNetworkMode.Host, options.NetworkMode);
        Assert.Equal("agent-7", options.AgentName);
        Assert.Equal(99, options.DefaultPids);
        Assert.Same(provider.GetRequiredService<DockerWorkspaceRuntime>(), runtime);
        Assert.Equal("docker", runtime.Name);
    }

    [Fact]
    public void AddDockerWorkspaceRuntime_InvalidOptions_FailWithEveryError()
    {
        using var provider = new ServiceCollection()
            .AddDockerWorkspaceRuntime(o =>
            {
                o.AgentName = "";
                o.DefaultCpu = -1;
            })
            .BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DockerRuntimeOptions>>().Value);

        Assert.Equal(2, error.Failures.Count());
    }
}
