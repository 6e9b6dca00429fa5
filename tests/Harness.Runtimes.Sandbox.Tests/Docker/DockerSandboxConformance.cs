using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Harness.Runtimes.Sandbox.Docker;
using Harness.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Harness.Runtimes.Sandbox.Tests.Docker;

/// <summary>
/// The conformance suite on a real Docker engine (the private one test.sh starts), with harness-test/sandbox:1:
/// busybox, the sandbox user and deploy/sandbox/entrypoint.sh as its entrypoint.
/// </summary>
public sealed class DockerSandboxConformance(DockerEngine engine) : SandboxConformance, IClassFixture<DockerEngine>
{
    public const string SandboxImage = "harness-test/sandbox:1";

    protected override string Image => SandboxImage;

    protected override ISandboxBackend CreateBackend(SandboxOptions options)
    {
        options.Docker.Endpoint = engine.Endpoint;
        options.Docker.TmpSizeMb = 16;
        return new DockerSandboxBackend(Microsoft.Extensions.Options.Options.Create(options), NullLogger<DockerSandboxBackend>.Instance);
    }

    private async Task<JsonElement?> InspectOrNullAsync(string name)
    {
        using var http = DockerEngine.CreateHttpClient(engine.Endpoint);
        using var response = await http.GetAsync($"/containers/{name}/json");
        return response.StatusCode == HttpStatusCode.NotFound ? null : (await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    [Fact]
    public async Task Run_LeavesNoContainerBehind()
    {
        var job = Shell("echo done");
        (await RunAsync(job)).Succeeded();

        Assert.Null(await InspectOrNullAsync("harness-job-" + job.Id.ToString("N")));
    }

    [Fact]
    public async Task Run_ContainerIsHardened_AsTheEngineReportsIt()
    {
        // Inspected while it runs: what the engine enforces, not only what was asked for.
        var job = Shell("echo up; sleep 30");
        using var cancel = new CancellationTokenSource();
        var running = RunAsync(job, cancel: cancel.Token);
        var name = "harness-job-" + job.Id.ToString("N");
        JsonElement? inspected = null;
        for (var i = 0; i < 200; i++)
        {
            inspected = await InspectOrNullAsync(name);
            if (inspected?.GetProperty("State").GetProperty("Running").GetBoolean() == true)
            {
                break;
            }
            await Task.Delay(100);
        }
        await cancel.CancelAsync();
        Assert.Equal(SandboxJobStatus.Canceled, (await running).Result.Status);

        Assert.NotNull(inspected);
        var host = inspected.Value.GetProperty("HostConfig");
        Assert.False(host.GetProperty("Privileged").GetBoolean());
        Assert.True(host.GetProperty("ReadonlyRootfs").GetBoolean());
        Assert.Equal(["ALL"], host.GetProperty("CapDrop").EnumerateArray().Select(c => c.GetString()));
        Assert.Contains("no-new-privileges:true", host.GetProperty("SecurityOpt").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("none", host.GetProperty("NetworkMode").GetString());
        Assert.Equal(host.GetProperty("Memory").GetInt64(), host.GetProperty("MemorySwap").GetInt64());
        Assert.Equal(64, host.GetProperty("PidsLimit").GetInt64());
        Assert.Equal("1000:1000", inspected.Value.GetProperty("Config").GetProperty("User").GetString());
    }

    [Fact]
    public async Task Run_NetworkNone_HasNoInterfaceButLoopback()
    {
        var run = (await RunAsync(Shell("ls /sys/class/net"))).Succeeded();
        Assert.Equal(["lo"], run.Stdout);
    }
}
