using Harness.Runtimes.Sandbox.Bubblewrap;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Harness.Runtimes.Sandbox.Tests;

public sealed class SandboxServiceCollectionExtensionsTests
{
    private static ServiceProvider Build(string backend)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:Sandbox:Backend"] = backend,
            ["Agent:Sandbox:User"] = "1000:1000",
            ["Agent:Sandbox:Bubblewrap:TmpSizeMb"] = "32",
            // No engine answers here, so auto's choice does not depend on the machine.
            ["Agent:Sandbox:Docker:Endpoint"] = "unix:///nonexistent/docker.sock",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddSandboxRuntime(configuration.GetSection("Agent:Sandbox"));
        return services.BuildServiceProvider();
    }

    [Fact]
    public void AddSandboxRuntime_Bubblewrap_BindsOptionsAndResolvesTheBackendAndRunner()
    {
        using var provider = Build("bubblewrap");
        Assert.Equal(32, provider.GetRequiredService<SandboxOptions>().Bubblewrap.TmpSizeMb);
        Assert.IsType<BubblewrapSandboxBackend>(provider.GetRequiredService<ISandboxBackend>());
        Assert.IsType<BubblewrapSandboxBackend>(provider.GetRequiredService<SandboxRunner>().Backend);
    }

    [Fact]
    public void AddSandboxRuntime_Auto_TakesTheFirstBackendThatCanRunHere()
    {
        // Docker's engine does not answer: auto falls through to bubblewrap, which runs on this host.
        using var provider = Build("auto");
        Assert.Equal(SandboxBackendNames.Bubblewrap, provider.GetRequiredService<ISandboxBackend>().Name);
    }

    [Fact]
    public async Task Selector_NoneOrUnavailable_SaysSo()
    {
        using var none = Build("none");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => none.GetRequiredService<SandboxBackendSelector>().SelectAsync(CancellationToken.None));
        Assert.Contains("'none'", error.Message, StringComparison.Ordinal);
        using var docker = Build("docker");
        error = await Assert.ThrowsAsync<InvalidOperationException>(() => docker.GetRequiredService<SandboxBackendSelector>().SelectAsync(CancellationToken.None));
        Assert.Contains("'docker'", error.Message, StringComparison.Ordinal);
    }
}
