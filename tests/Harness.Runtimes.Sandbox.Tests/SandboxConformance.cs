using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Harness.Runtimes.Sandbox.Tests;

/// <summary>
/// What every sandbox backend must show (DESIGN §7): no network unless asked, a real non-root user, a read-only
/// root, no capabilities and no new privileges, memory/pids limits, a hard timeout, a prompt cancel, secrets
/// masked, the workspace read-write and nothing else. A backend's test class derives from this with its backend
/// and an image holding busybox, a <c>sandbox</c> user (uid 1000) and empty /workspace and /home/sandbox.
/// </summary>
public abstract class SandboxConformance : IDisposable
{
    protected const int SandboxUid = 1000;
    protected const int SandboxGid = 1000;

    private readonly string _root = Directory.CreateTempSubdirectory("harness-sandbox-tests-").FullName;

    protected SandboxConformance()
    {
        // The sandbox user must traverse to its home and workspace under here (not list them).
        File.SetUnixFileMode(_root, (UnixFileMode)0x1C9); // 0711
    }

    /// <summary>An image (Docker) or root filesystem (bubblewrap) with busybox and a sandbox user.</summary>
    protected abstract string Image { get; }

    protected abstract ISandboxBackend CreateBackend(SandboxOptions options);

    /// <summary>A folder of the test's own, removed afterwards.</summary>
    protected string TempDirectory(string name)
    {
        var path = Path.Combine(_root, name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>A host folder the sandbox user owns, for a workspace that outlives the job.</summary>
    protected string SandboxOwnedDirectory(string name)
    {
        var path = TempDirectory(name);
        if (UnixFiles.IsRoot)
        {
            UnixFiles.Chown(path, new SandboxUser(SandboxUid, SandboxGid));
        }
        else
        {
            File.SetUnixFileMode(path, (UnixFileMode)0x1FF);
        }
        return path;
    }

    protected SandboxOptions Options(Action<SandboxOptions>? configure = null)
    {
        var options = new SandboxOptions
        {
            WorkDirectory = Path.Combine(_root, "work"),
            User = $"{SandboxUid}:{SandboxGid}",
        };
        configure?.Invoke(options);
        return options;
    }

    protected static SandboxJob Shell(string script, TimeSpan? timeout = null) => new()
    {
        Id = Guid.NewGuid(),
        Image = "",
        Command = ["sh", "-c", script],
        Timeout = timeout ?? TimeSpan.FromSeconds(20),
        MemoryMb = 128,
        Pids = 64,
    };

    protected async Task<Run> RunAsync(SandboxJob job, SandboxOptions? options = null, CancellationToken cancel = default)
    {
        options ??= Options();
        var output = new CollectingOutput();
        var runner = new SandboxRunner(CreateBackend(options), options, TimeProvider.System, NullLogger<SandboxRunner>.Instance);
        var watch = Stopwatch.StartNew();
        var result = await runner.RunAsync(job with { Image = job.Image.Length == 0 ? Image : job.Image }, output, cancel);
        return new Run(result, output.Lines, watch.Elapsed);
    }

    protected sealed record Run(SandboxResult Result, IReadOnlyList<(SandboxStream Stream, string Line)> Lines, TimeSpan Elapsed)
    {
        public IEnumerable<string> Stdout => Lines.Where(l => l.Stream == SandboxStream.Stdout).Select(l => l.Line);

        public IEnumerable<string> Stderr => Lines.Where(l => l.Stream == SandboxStream.Stderr).Select(l => l.Line);

        public override string ToString() =>
            $"{Result.Status} {Result.Reason} exit={Result.ExitCode} '{Result.Message}' after {Elapsed.TotalSeconds:0.0}s\n"
            + string.Join('\n', Lines.Select(l => $"[{l.Stream}] {l.Line}"));

        public Run Succeeded()
        {
            Assert.True(Result.Status == SandboxJobStatus.Succeeded, ToString());
            return this;
        }
    }

    private sealed class CollectingOutput : ISandboxOutput
    {
        private readonly List<(SandboxStream, string)> _lines = [];

        public IReadOnlyList<(SandboxStream Stream, string Line)> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public ValueTask WriteLineAsync(SandboxStream stream, string line, CancellationToken cancellationToken)
        {
            lock (_lines)
            {
                _lines.Add((stream, line));
            }
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task UnavailableReason_OnThisHost_IsNull()
    {
        Assert.Null(await CreateBackend(Options()).UnavailableReasonAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Run_ExitCode_Propagates()
    {
        var run = await RunAsync(Shell("exit 3"));
        Assert.True(run.Result is { Status: SandboxJobStatus.Failed, Reason: SandboxReasons.Exit, ExitCode: 3 }, run.ToString());
    }

    [Fact]
    public async Task Run_StdoutAndStderr_CapturedLineByLine()
    {
        var run = (await RunAsync(Shell("echo one; echo two >&2; printf 'three\\r\\nno-newline'"))).Succeeded();
        Assert.Equal(["one", "three", "no-newline"], run.Stdout);
        Assert.Equal(["two"], run.Stderr);
    }

    [Fact]
    public async Task Run_Secret_VisibleToCommandButMaskedInEveryLine()
    {
        const string secret = "s3cr3t-Value-42";
        var job = Shell("echo \"token=$API_TOKEN\"; echo \"$API_TOKEN\" >&2; [ \"$API_TOKEN\" = " + secret + " ] && echo same; echo \"plain=$PLAIN\"; exit 0") with
        {
            Secrets = new Dictionary<string, string> { ["API_TOKEN"] = secret },
            Environment = new Dictionary<string, string> { ["PLAIN"] = "visible" },
        };
        var run = (await RunAsync(job)).Succeeded();
        Assert.Contains("token=***", run.Stdout);
        Assert.Contains("same", run.Stdout);
        Assert.Contains("plain=visible", run.Stdout);
        Assert.DoesNotContain(run.Lines, l => l.Line.Contains(secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_HostPathWorkspace_IsTheWorkingDirectoryReadWriteAndKeptAfterTheJob()
    {
        var workspace = SandboxOwnedDirectory("workspace");
        await File.WriteAllTextAsync(Path.Combine(workspace, "input.txt"), "from the host\n");
        var job = Shell("pwd; cat input.txt; mkdir -p out && echo made > out/result.txt") with { Workspace = SandboxMount.Directory(workspace) };
        var run = (await RunAsync(job)).Succeeded();
        Assert.Equal(["/workspace", "from the host"], run.Stdout);
        Assert.Equal("made\n", await File.ReadAllTextAsync(Path.Combine(workspace, "out", "result.txt")));
    }

    [Fact]
    public async Task Run_Credentials_CopiedIntoHomeAndMountedReadOnly()
    {
        var credentials = TempDirectory("credentials");
        Directory.CreateDirectory(Path.Combine(credentials, ".tool"));
        await File.WriteAllTextAsync(Path.Combine(credentials, ".tool", "config"), "user=alice\n");
        File.SetUnixFileMode(credentials, (UnixFileMode)0x1ED); // 0755: the sandbox user reads the mount
        File.SetUnixFileMode(Path.Combine(credentials, ".tool"), (UnixFileMode)0x1ED);
        var options = Options(o => o.CredentialsDirectory = credentials);
        var run = (await RunAsync(Shell(
            "cat \"$HOME/.tool/config\"; cat /run/harness/credentials/.tool/config; echo changed > \"$HOME/.tool/config\" && echo home-writable; "
            + "if touch /run/harness/credentials/x 2>/dev/null; then echo credentials-writable; else echo credentials-read-only; fi"), options)).Succeeded();
        Assert.Equal(["user=alice", "user=alice", "home-writable", "credentials-read-only"], run.Stdout);
        Assert.Equal("user=alice\n", await File.ReadAllTextAsync(Path.Combine(credentials, ".tool", "config")));
    }

    [Fact]
    public async Task Run_RootFilesystem_IsReadOnlyButHomeAndTmpAreWritable()
    {
        var run = (await RunAsync(Shell(
            "for f in /etc/x /bin/x /x /usr/x /tmp/x \"$HOME/x\" /workspace/x; do if touch \"$f\" 2>/dev/null; then echo \"$f writable\"; else echo \"$f read-only\"; fi; done"))).Succeeded();
        Assert.Equal(
            ["/etc/x read-only", "/bin/x read-only", "/x read-only", "/usr/x read-only", "/tmp/x writable", "/home/sandbox/x writable", "/workspace/x writable"],
            run.Stdout);
    }

    [Fact]
    public async Task Run_Process_HasNoNewPrivsAndNoCapabilities()
    {
        var run = (await RunAsync(Shell("grep -E '^(NoNewPrivs|CapInh|CapPrm|CapEff|CapBnd|CapAmb):' /proc/self/status"))).Succeeded();
        var status = run.Stdout.Select(l => l.Split(':', 2)).ToDictionary(p => p[0], p => p[1].Trim());
        Assert.Equal("1", status["NoNewPrivs"]);
        Assert.Equal("0000000000000000", status["CapEff"]);
        Assert.Equal("0000000000000000", status["CapPrm"]);
        Assert.Equal("0000000000000000", status["CapBnd"]);
        Assert.Equal("0000000000000000", status["CapAmb"]);
    }

    [Fact]
    public async Task Run_User_IsTheConfiguredNonRootUidInsideAndOnTheHost()
    {
        var workspace = SandboxOwnedDirectory("workspace");
        var job = Shell("id -u; id -g; touch made-by-the-job") with { Workspace = SandboxMount.Directory(workspace) };
        var run = (await RunAsync(job)).Succeeded();
        Assert.Equal(["1000", "1000"], run.Stdout);
        // The file's owner on the host is the uid the sandbox's processes really had: not root.
        Assert.Equal($"{SandboxUid}:{SandboxGid}", HostStat(Path.Combine(workspace, "made-by-the-job")));
    }

    [Fact]
    public async Task Run_RemountAndNewNamespacesAndSu_CannotGainPrivileges()
    {
        var run = (await RunAsync(Shell(
            "mount -o remount,rw / 2>/dev/null && echo remounted || echo remount-refused; "
            + "mount -t tmpfs none /workspace 2>/dev/null && echo mounted || echo mount-refused; "
            + "unshare -r id -u 2>/dev/null && echo unshared || echo unshare-refused; "
            + "su -c 'id -u' root </dev/null 2>/dev/null && echo su-worked || echo su-refused; "
            + "chown 0:0 /workspace 2>/dev/null && echo chowned || echo chown-refused"))).Succeeded();
        Assert.Equal(["remount-refused", "mount-refused", "unshare-refused", "su-refused", "chown-refused"], run.Stdout);
    }

    [Fact]
    public async Task Run_NetworkNone_CannotReachAServerOnHostLoopback()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var run = (await RunAsync(Shell($"if echo hi | nc -w 2 127.0.0.1 {port}; then echo connected; else echo unreachable; fi"))).Succeeded();
        Assert.Equal(["unreachable"], run.Stdout);
        Assert.False(listener.Pending(), "the host's listener saw a connection from the sandbox");
    }

    [Fact]
    public async Task Run_Pids_ProcessesStopAtTheLimit()
    {
        // 200 background sleeps asked for; the shell's fork fails (and the shell ends) once the sandbox holds its
        // 32 pids. echo is a builtin, so each "started" line is one sleep that really runs.
        var job = Shell("i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); echo \"started $i\"; done") with { Pids = 32 };
        var run = await RunAsync(job);
        var started = run.Stdout.Count(l => l.StartsWith("started ", StringComparison.Ordinal));
        Assert.True(started is >= 16 and < 32, run.ToString());
        Assert.True(run.Result.Status == SandboxJobStatus.Failed && run.Elapsed < TimeSpan.FromSeconds(10), run.ToString());
    }

    [Fact]
    public async Task Run_ForkBomb_IsContainedAndEndsAtItsTimeout()
    {
        // The bomb goes off in a subshell, the main shell's one fork after mkfifo's: started from the main shell itself,
        // the bomb's first half could take every pid before the shell forked its second half, and a shell that cannot
        // fork a pipeline exits. The shell then blocks in a builtin (opening a FIFO; again when a signal interrupts
        // it), which needs no fork while the bomb holds every pid.
        var job = Shell("mkfifo /tmp/p; (f() { f | f & }; f) & while :; do read x < /tmp/p; done 2>/dev/null", TimeSpan.FromSeconds(3)) with { Pids = 32 };
        var run = await RunAsync(job);
        Assert.True(run.Result is { Status: SandboxJobStatus.TimedOut, Reason: SandboxReasons.Timeout }, run.ToString());
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(15), run.ToString());
    }

    [Fact]
    public async Task Run_MemoryHog_IsKilledAndReportedOomKilled()
    {
        // awk doubles a string until the 48 MiB limit stops it: anonymous memory, not a file in a tmpfs.
        var job = Shell("awk 'BEGIN { s = \"x\"; while (1) s = s s }'; echo survived", TimeSpan.FromSeconds(30)) with { MemoryMb = 48 };
        var run = await RunAsync(job);
        Assert.True(run.Result is { Status: SandboxJobStatus.Failed, Reason: SandboxReasons.OomKilled }, run.ToString());
    }

    [Fact]
    public async Task Run_OverItsTimeout_IsKilledAndTimedOut()
    {
        var run = await RunAsync(Shell("trap '' TERM INT; echo started; sleep 30", TimeSpan.FromSeconds(1.5)));
        Assert.True(run.Result is { Status: SandboxJobStatus.TimedOut, Reason: SandboxReasons.Timeout }, run.ToString());
        Assert.Contains("started", run.Stdout);
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(1.5 + 5), run.ToString());
    }

    [Fact]
    public async Task Run_Canceled_StopsWithinSeconds()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var run = await RunAsync(Shell("trap '' TERM INT; sleep 30 & sleep 30; wait"), cancel: cancel.Token);
        Assert.True(run.Result is { Status: SandboxJobStatus.Canceled, Reason: SandboxReasons.Canceled }, run.ToString());
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(6), run.ToString());
    }

    [Fact]
    public async Task Run_Artifacts_CollectedButASymlinkOutOfTheWorkspaceIsSkipped()
    {
        var workspace = SandboxOwnedDirectory("workspace");
        var job = Shell("mkdir out && echo report > out/report.txt && ln -s /etc/passwd out/passwd.txt") with
        {
            Workspace = SandboxMount.Directory(workspace),
            Artifacts = ["out/*.txt"],
        };
        var run = (await RunAsync(job)).Succeeded();
        var artifact = Assert.Single(run.Result.Artifacts);
        Assert.Equal("out/report.txt", artifact.Name);
        Assert.Equal(7, artifact.Length);
    }

    [Fact]
    public async Task Run_UnknownImage_FailsImageNotFound()
    {
        var run = await RunAsync(Shell("true") with { Image = "no-such-image-" + Guid.NewGuid().ToString("N")[..8] });
        Assert.True(run.Result is { Status: SandboxJobStatus.Failed, Reason: SandboxReasons.ImageNotFound }, run.ToString());
    }

    /// <summary>uid:gid of a host file, as the host sees it.</summary>
    protected static string HostStat(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%u:%g", path]) { RedirectStandardOutput = true })!;
        var text = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return text;
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A non-root test run may not remove what the sandbox user made; the OS's temp cleaning will.
            }
        }
    }
}
