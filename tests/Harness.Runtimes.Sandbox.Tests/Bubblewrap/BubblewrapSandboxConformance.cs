using System.Net;
using System.Net.Sockets;
using Harness.Runtimes.Sandbox.Bubblewrap;
using Microsoft.Extensions.Logging.Abstractions;

namespace Harness.Runtimes.Sandbox.Tests.Bubblewrap;

/// <summary>The conformance suite on real bubblewrap with a busybox root filesystem, plus what only bubblewrap has.</summary>
public sealed class BubblewrapSandboxConformance(BusyboxRootfs rootfs) : SandboxConformance, IClassFixture<BusyboxRootfs>
{
    protected override string Image => BusyboxRootfs.Image;

    protected override ISandboxBackend CreateBackend(SandboxOptions options)
    {
        options.Bubblewrap.RootfsDirectory = rootfs.Directory;
        options.Bubblewrap.TmpSizeMb = 16;
        return new BubblewrapSandboxBackend(options, NullLogger<BubblewrapSandboxBackend>.Instance);
    }

    [Fact]
    public async Task Run_NetworkEgress_ReachesHostLoopback()
    {
        // The control for the "network none" test: the same nc does connect when the network is shared.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var job = Shell($"echo hi | nc -w 5 127.0.0.1 {port} && echo connected") with { Network = SandboxNetwork.Egress };
        var running = RunAsync(job);
        using (await listener.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(10)))
        {
            // Closing our end lets nc finish.
        }
        var run = (await running).Succeeded();
        Assert.Equal(["connected"], run.Stdout);
    }

    [Fact]
    public async Task Run_HostImage_SetuidBinariesGiveNoRoot()
    {
        // The host's own su and passwd are setuid root; no_new_privs makes the bit inert.
        var run = (await RunAsync(Shell(
            "[ -u /usr/bin/su ] && echo su-is-setuid; /usr/bin/su -c 'id -u' root </dev/null 2>/dev/null && echo su-worked || echo su-refused; id -u") with
        { Image = "host" })).Succeeded();
        Assert.Equal(["su-is-setuid", "su-refused", "1000"], run.Stdout);
    }

    [Fact]
    public async Task Run_AfterTheJob_ItsCgroupsAreRemoved()
    {
        var job = Shell("sleep 30 & echo started");
        var run = (await RunAsync(job)).Succeeded();
        var name = "harness-job-" + job.Id.ToString("N");
        var left = Directory.EnumerateDirectories("/sys/fs/cgroup", name, new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, MaxRecursionDepth = 8 });
        Assert.Empty(left);
    }

    [Fact]
    public async Task Run_DockerVolumeWithoutHostPath_FailsInvalid()
    {
        var run = await RunAsync(Shell("true") with { Workspace = SandboxMount.Volume("some-volume") });
        Assert.True(run.Result is { Status: SandboxJobStatus.Failed, Reason: SandboxReasons.Error }, run.ToString());
        Assert.Contains("some-volume", run.Result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_Secret_NeverInAnyHostProcessCommandLine()
    {
        // bwrap gets the environment through its stdin (--args 0), not argv, which every host user can read.
        const string secret = "argv-Secret-9f8e7d";
        var job = Shell("echo ready; sleep 2") with { Secrets = new Dictionary<string, string> { ["TOKEN"] = secret } };
        var running = RunAsync(job);
        var seen = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var sawSandbox = false;
        while (!running.IsCompleted && DateTime.UtcNow < deadline)
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc").Where(d => char.IsAsciiDigit(Path.GetFileName(d)[0])))
            {
                try
                {
                    var cmdline = (await File.ReadAllTextAsync(Path.Combine(dir, "cmdline"))).Replace('\0', ' ');
                    sawSandbox |= cmdline.Contains("--args 0", StringComparison.Ordinal);
                    if (cmdline.Contains(secret, StringComparison.Ordinal))
                    {
                        seen.Add(cmdline);
                    }
                }
                catch (IOException)
                {
                    // The process ended meanwhile.
                }
            }
            await Task.Delay(100);
        }
        (await running).Succeeded();
        Assert.True(sawSandbox, "never saw the bwrap process while the job ran");
        Assert.Empty(seen);
    }

    [Fact]
    public async Task Backend_WithoutBwrap_IsUnavailableAndItsJobsFail()
    {
        var options = Options(o =>
        {
            o.Bubblewrap.Executable = "/nonexistent/bwrap";
            o.Bubblewrap.RootfsDirectory = rootfs.Directory;
        });
        var backend = new BubblewrapSandboxBackend(options, NullLogger<BubblewrapSandboxBackend>.Instance);
        Assert.Contains("not found", await backend.UnavailableReasonAsync(CancellationToken.None), StringComparison.Ordinal);
        var run = await new SandboxRunner(backend, options, TimeProvider.System, NullLogger<SandboxRunner>.Instance)
            .RunAsync(Shell("true") with { Image = Image }, new NullOutput(), CancellationToken.None);
        Assert.Equal((SandboxJobStatus.Failed, SandboxReasons.Error), (run.Status, run.Reason));
    }

    private sealed class NullOutput : ISandboxOutput
    {
        public ValueTask WriteLineAsync(SandboxStream stream, string line, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
