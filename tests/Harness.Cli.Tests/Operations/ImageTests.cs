using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Harness.Cli.Tests.EndToEnd;
using Harness.Contracts;
using Harness.Contracts.Runs;
using Harness.Testing;
using Xunit.Abstractions;

namespace Harness.Cli.Tests.Operations;

/// <summary>
/// The must-show: deploy/images/Dockerfile builds here from the locally made bases (no registry),
/// and the images run as non-root: server and agent containers on PostgreSQL complete a run on the
/// simulated farm, then stop cleanly (exit 0) on <c>docker stop</c>'s SIGTERM.
/// Needs test.sh's private engine with the bases (build_base_images) and the offline NuGet feed.
/// </summary>
public sealed class ImageTests(ITestOutputHelper output)
{
    private readonly string _host = Environment.GetEnvironmentVariable(DockerEngine.HostVariable) is { Length: > 0 } h
        ? h : throw new InvalidOperationException(DockerEngine.HowToStart);

    [Fact]
    public async Task Images_BuildFromTheLocalBase_RunAFarmOnPostgres_AndStopCleanlyOnSigterm()
    {
        var tag = $"test-{Guid.NewGuid():N}"[..13];
        var clock = Stopwatch.StartNew();
        foreach (var target in new[] { "server", "agent" })
        {
            await DockerAsync(["build", "-q", "--network", "none", "-f", "deploy/images/Dockerfile", "--target", target, "-t", $"harness/{target}:{tag}", "."],
                TimeSpan.FromMinutes(10), environment: new() { ["DOCKER_BUILDKIT"] = "0" });
        }
        output.WriteLine($"images built in {clock.Elapsed.TotalSeconds:0} s");
        Assert.Equal("10001:10001", (await DockerAsync(["image", "inspect", "-f", "{{.Config.User}}", $"harness/server:{tag}"])).Trim());
        Assert.Equal("SIGTERM", (await DockerAsync(["image", "inspect", "-f", "{{.Config.StopSignal}}", $"harness/agent:{tag}"])).Trim());
        output.WriteLine(await DockerAsync(["image", "ls", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"]));

        await using var database = await TestDatabase.CreateAsync(Providers.Postgres);
        var port = HarnessProcess.FreePort();
        var url = $"http://127.0.0.1:{port}";
        var server = $"harness-server-{tag}";
        var agent = $"harness-agent-{tag}";
        try
        {
            await DockerAsync(["run", "-d", "--name", server, "--network", "host",
                "-e", "HARNESS_DATABASE_PROVIDER=postgres", "-e", $"HARNESS_DATABASE_URL={database.ConnectionString}",
                "-e", $"HARNESS_ADMIN_TOKEN={Farm.AdminToken}", "-e", $"NODE_AGENT_SHARED_SECRET={Farm.FleetSecret}",
                "-e", $"HARNESS_HEALTH_PORT={port}",
                $"harness/server:{tag}", "--urls", url]);
            using var http = new HttpClient { BaseAddress = new Uri(url) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Farm.AdminToken);
            await WaitUntilAsync(async () => (await http.GetAsync(Routes.HealthReady)).IsSuccessStatusCode, server);

            await DockerAsync(["run", "-d", "--name", agent, "--network", "host",
                "-e", $"HARNESS_SERVER_URL={url}", "-e", "HARNESS_AGENT_NAME=PC-IMAGE", "-e", $"NODE_AGENT_SHARED_SECRET={Farm.FleetSecret}",
                "-e", "HARNESS_DEVICE_ADAPTER=simulator", "-e", "Agent__Devices__SimulatorDevices=3", "-e", "Agent__HeartbeatIntervalSec=1",
                $"harness/agent:{tag}"]);
            await WaitUntilAsync(async () => (await http.GetFromJsonAsync(Routes.NodesStatus, HarnessJsonContext.Default.NodeStatusResponse))!.Total == 3, agent);

            var pushed = await http.PostAsJsonAsync(Routes.Workflows, Farm.Capture("image"), HarnessJsonContext.Default.WorkflowDefinition);
            pushed.EnsureSuccessStatusCode();
            var workflow = (await pushed.Content.ReadFromJsonAsync(HarnessJsonContext.Default.WorkflowCreatedResponse))!.WorkflowId;
            var created = await http.PostAsJsonAsync(Routes.Runs, new CreateRunRequest(workflow, Target: new RunTarget(All: true)), HarnessJsonContext.Default.CreateRunRequest);
            created.EnsureSuccessStatusCode();
            var runId = (await created.Content.ReadFromJsonAsync(HarnessJsonContext.Default.RunCreatedResponse))!.RunId;
            RunDetail? run = null;
            await WaitUntilAsync(async () => RunStatus.IsTerminal((run = (await http.GetFromJsonAsync($"{Routes.Runs}/{runId}", HarnessJsonContext.Default.RunDetail))!).Run.Status), agent);
            Assert.Equal((RunStatus.Succeeded, 3), (run!.Run.Status, run.Run.Counts.Succeeded));
            await WaitUntilAsync(async () => (await DockerAsync(["inspect", "-f", "{{.State.Health.Status}}", server])).Trim() == "healthy", server);

            foreach (var container in new[] { agent, server })
            {
                var stop = Stopwatch.StartNew();
                await DockerAsync(["stop", "-t", "40", container], TimeSpan.FromSeconds(60));
                output.WriteLine($"{container} stopped in {stop.Elapsed.TotalSeconds:0.0} s");
                Assert.Equal("0", (await DockerAsync(["inspect", "-f", "{{.State.ExitCode}}", container])).Trim());
                Assert.True(stop.Elapsed < TimeSpan.FromSeconds(35), $"{container} took {stop.Elapsed} to stop: it was killed, not stopped");
            }
        }
        finally
        {
            output.WriteLine(await DockerAsync(["logs", "--tail", "20", server], check: false));
            output.WriteLine(await DockerAsync(["logs", "--tail", "20", agent], check: false));
            await DockerAsync(["rm", "-f", server, agent], check: false);
            await DockerAsync(["rmi", "-f", $"harness/server:{tag}", $"harness/agent:{tag}"], check: false);
        }
    }

    private async Task WaitUntilAsync(Func<Task<bool>> condition, string container)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(90))
            {
                throw new TimeoutException($"{container}: not within 90 s\n{await DockerAsync(["logs", "--tail", "40", container], check: false)}");
            }
            await Task.Delay(500);
        }
    }

    private async Task<string> DockerAsync(string[] args, TimeSpan? timeout = null, bool check = true, Dictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("docker")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Repository.Root,
        };
        info.ArgumentList.Add("-H");
        info.ArgumentList.Add(_host);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment ?? [])
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"docker {string.Join(' ', args)}: no answer within {timeout}");
        }
        var text = (await stdout) + (await stderr);
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"docker {string.Join(' ', args)} exited {process.ExitCode}:\n{text}");
        }
        return text;
    }
}
