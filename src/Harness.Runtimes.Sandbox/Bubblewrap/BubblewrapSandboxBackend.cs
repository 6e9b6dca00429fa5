using System.Diagnostics;
using System.Globalization;
using Harness.Runtimes.Sandbox.Cgroups;
using Microsoft.Extensions.Logging;

namespace Harness.Runtimes.Sandbox.Bubblewrap;

/// <summary>
/// Runs a sandbox under bubblewrap: every namespace unshared (the network too unless the job asks for egress), the
/// image's root filesystem read-only, only /workspace, /home/sandbox and a size-limited /tmp writable, no
/// capabilities, no new privileges, no nested user namespaces, and a cgroup of its own for memory, pids and CPU.
/// <para>
/// The process chain is <c>/bin/sh</c> (joins the cgroup, so nothing runs outside it) → <c>setpriv</c> (only when
/// the agent is root: becomes the sandbox uid for real, so bwrap's user namespace maps to that uid and not to root)
/// → <c>bwrap</c> → the command.
/// </para>
/// </summary>
public sealed partial class BubblewrapSandboxBackend : ISandboxBackend
{
    private const string JoinCgroupScript =
        "while [ \"$1\" != -- ]; do echo \"$$\" > \"$1\" || { echo \"harness: cannot join the sandbox cgroup ($1)\" >&2; exit 125; }; shift; done; shift; exec \"$@\"";

    private static readonly TimeSpan KillWithin = TimeSpan.FromSeconds(5);

    private readonly SandboxOptions _options;
    private readonly ILogger<BubblewrapSandboxBackend> _logger;
    private readonly Lazy<(CgroupManager? Manager, string? Reason)> _cgroups;

    public BubblewrapSandboxBackend(SandboxOptions options, ILogger<BubblewrapSandboxBackend> logger)
    {
        _options = options;
        _logger = logger;
        _cgroups = new(() => (CgroupManager.Detect(out var reason), reason));
    }

    public string Name => SandboxBackendNames.Bubblewrap;

    public async Task<string?> UnavailableReasonAsync(CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "bubblewrap runs on Linux only.";
        }
        var bwrap = HostExecutable.Find(_options.Bubblewrap.Executable);
        if (bwrap is null)
        {
            return $"bwrap ('{_options.Bubblewrap.Executable}') not found: install the 'bubblewrap' package or set Agent:Sandbox:Bubblewrap:Executable.";
        }
        string? setpriv = null;
        if (UnixFiles.IsRoot && (setpriv = HostExecutable.Find("setpriv")) is null)
        {
            return "setpriv (util-linux) not found: an agent running as root needs it to run bwrap as the sandbox user.";
        }
        if (_cgroups.Value.Manager is null)
        {
            return $"no cgroup for sandbox limits: {_cgroups.Value.Reason}";
        }
        if (!SandboxUser.TryParse(_options.User, out var user))
        {
            return $"Agent:Sandbox:User '{_options.User}' is not a non-root uid:gid.";
        }

        // A do-nothing sandbox as the sandbox user proves unprivileged user namespaces work here.
        var start = new ProcessStartInfo { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = "/" };
        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
        var argv = Privileges(setpriv, user);
        argv.AddRange([bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--ro-bind", "/", "/", "--", "/bin/true"]);
        start.FileName = argv[0];
        argv.Skip(1).ToList().ForEach(start.ArgumentList.Add);
        using var probe = await SpawnThread.StartAsync(start);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            var error = probe.StandardError.ReadToEndAsync(timeout.Token);
            await probe.WaitForExitAsync(timeout.Token);
            if (probe.ExitCode != 0)
            {
                return $"bwrap cannot make a sandbox as uid {user.Uid} (exit {probe.ExitCode}: {(await error).Trim()}); "
                    + "unprivileged user namespaces must be allowed (user.max_user_namespaces > 0; on Ubuntu, AppArmor's kernel.apparmor_restrict_unprivileged_userns = 0).";
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            probe.Kill(entireProcessTree: true);
            return "bwrap did not start a do-nothing sandbox within 10 s.";
        }
        return null;
    }

    public async Task<SandboxExit> RunAsync(SandboxSpec spec, ISandboxOutput output, CancellationToken stop)
    {
        var bwrap = HostExecutable.Find(_options.Bubblewrap.Executable)
            ?? throw new SandboxException(SandboxErrorKind.Unavailable, $"bwrap ('{_options.Bubblewrap.Executable}') not found: install the 'bubblewrap' package.");
        string? setpriv = null;
        if (UnixFiles.IsRoot)
        {
            setpriv = HostExecutable.Find("setpriv")
                ?? throw new SandboxException(SandboxErrorKind.Unavailable, "setpriv (util-linux) not found: an agent running as root needs it.");
        }
        var manager = _cgroups.Value.Manager
            ?? throw new SandboxException(SandboxErrorKind.Unavailable, $"no cgroup for sandbox limits: {_cgroups.Value.Reason}");
        var root = RootFilesystem.Resolve(spec.Image, _options.Bubblewrap.RootfsDirectory);
        var workspace = spec.Workspace.HostPath
            ?? throw new SandboxException(SandboxErrorKind.Invalid,
                $"the bubblewrap backend mounts host folders only; the Docker volume '{spec.Workspace.DockerVolume}' has no host path.");
        if (!Directory.Exists(workspace))
        {
            throw new SandboxException(SandboxErrorKind.Invalid, $"the workspace folder {workspace} does not exist.");
        }
        if (spec.User.Uid <= 0 || spec.User.Gid <= 0)
        {
            throw new SandboxException(SandboxErrorKind.Invalid, "a sandbox never runs as root.");
        }
        var options = BubblewrapArguments.Encode(BubblewrapArguments.Build(spec, root, workspace, _options.Bubblewrap));

        using var cgroup = manager.Create(spec.Name, new CgroupLimits((long)spec.MemoryMb * 1024 * 1024, spec.Pids, spec.Cpus));
        try
        {
            return await RunInCgroupAsync(spec, output, cgroup, bwrap, setpriv, options, stop);
        }
        finally
        {
            if (!await cgroup.KillAllAsync(KillWithin))
            {
                LogKillIncomplete(_logger, spec.Name, cgroup.Pids().Count);
            }
        }
    }

    private async Task<SandboxExit> RunInCgroupAsync(
        SandboxSpec spec, ISandboxOutput output, SandboxCgroup cgroup, string bwrap, string? setpriv, byte[] options, CancellationToken stop)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        // Nothing of the job's environment reaches the processes that run before the sandbox (setpriv runs as root).
        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
        var argv = new List<string> { "-c", JoinCgroupScript, "harness-sandbox" };
        argv.AddRange(cgroup.ProcsFiles);
        argv.Add("--");
        argv.AddRange(Privileges(setpriv, spec.User));
        argv.AddRange([bwrap, "--args", "0", "--"]);
        argv.AddRange(spec.Command);
        argv.ForEach(start.ArgumentList.Add);

        LogStarting(_logger, spec.Name, spec.Image, spec.Network, spec.MemoryMb, spec.Pids, spec.Cpus);
        Process started;
        try
        {
            started = await SpawnThread.StartAsync(start);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new SandboxException(SandboxErrorKind.Unavailable, $"cannot start /bin/sh for the sandbox: {ex.Message}", ex);
        }
        using var process = started;

        using var pumpStop = new CancellationTokenSource();
        var pumps = Task.WhenAll(
            OutputLines.PumpAsync(process.StandardOutput.BaseStream, SandboxStream.Stdout, output, pumpStop.Token),
            OutputLines.PumpAsync(process.StandardError.BaseStream, SandboxStream.Stderr, output, pumpStop.Token));
        // bwrap reads its options from stdin up to EOF; the command then finds stdin at its end. Not awaited here:
        // a sandbox that never reads it must still be stoppable.
        var feed = FeedAsync(process.StandardInput.BaseStream, options);

        var exited = process.WaitForExitAsync(CancellationToken.None);
        var killed = false;
        if (!exited.IsCompleted)
        {
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (stop.Register(() => stopped.TrySetResult()))
            {
                await Task.WhenAny(exited, stopped.Task);
            }
            if (!exited.IsCompleted)
            {
                killed = true;
                LogKilling(_logger, spec.Name);
                await cgroup.KillAllAsync(KillWithin);
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // Already gone.
                }
            }
        }

        string? detail = null;
        try
        {
            await exited.WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (TimeoutException)
        {
            detail = "the sandbox did not end within 15 s of being killed";
        }
        try
        {
            await pumps.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            await pumpStop.CancelAsync();
        }
        catch (OperationCanceledException)
        {
        }

        await feed;
        int? exitCode = process.HasExited ? process.ExitCode : null;
        var oomKilled = cgroup.OomKills() > 0;
        LogEnded(_logger, spec.Name, exitCode, oomKilled, killed);
        return new SandboxExit(exitCode, oomKilled, killed, detail);
    }

    private static async Task FeedAsync(Stream stdin, byte[] options)
    {
        try
        {
            await stdin.WriteAsync(options);
            stdin.Close();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The wrapper or bwrap died before reading all of it (it says why on stderr).
        }
    }

    /// <summary>For an agent running as root: become the sandbox user for real, with no groups and no capabilities.</summary>
    private static List<string> Privileges(string? setpriv, SandboxUser user) => setpriv is null
        ? []
        : [
            setpriv,
            "--reuid=" + user.Uid.ToString(CultureInfo.InvariantCulture),
            "--regid=" + user.Gid.ToString(CultureInfo.InvariantCulture),
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
        ];

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sandbox {Name}: starting bwrap (image {Image}, network {Network}, {MemoryMb} MiB, {Pids} pids, {Cpus} CPUs)")]
    private static partial void LogStarting(ILogger logger, string name, string image, SandboxNetwork network, int memoryMb, int pids, double cpus);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {Name}: stop requested, killing every process in its cgroup")]
    private static partial void LogKilling(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sandbox {Name}: ended (exit code {ExitCode}, OOM killed {OomKilled}, killed {Killed})")]
    private static partial void LogEnded(ILogger logger, string name, int? exitCode, bool oomKilled, bool killed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox {Name}: {Count} processes were still in its cgroup after being killed; the cgroup is left behind")]
    private static partial void LogKillIncomplete(ILogger logger, string name, int count);
}
