using System.Globalization;
using Microsoft.Extensions.FileSystemGlobbing;
using Microsoft.Extensions.Logging;

namespace Harness.Runtimes.Sandbox;

/// <summary>
/// Runs one <see cref="SandboxJob"/> on a backend: prepares the home (credentials copied in once) and a scratch
/// workspace, builds the environment, masks secrets in the output, enforces the hard timeout, maps the backend's
/// exit to a job status, and collects artifacts. The same for every backend.
/// </summary>
public sealed partial class SandboxRunner(ISandboxBackend backend, SandboxOptions options, TimeProvider time, ILogger<SandboxRunner> logger)
{
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public ISandboxBackend Backend => backend;

    public async Task<SandboxResult> RunAsync(SandboxJob job, ISandboxOutput output, CancellationToken cancel)
    {
        if (!SandboxUser.TryParse(options.User, out var user))
        {
            throw new SandboxException(SandboxErrorKind.Invalid, $"Agent:Sandbox:User '{options.User}' is not a non-root uid:gid.");
        }
        var redactor = new SecretRedactor(job.Secrets.Values);
        var masked = new RedactingOutput(output, redactor);
        var jobDirectory = JobDirectory(job.Id);
        SandboxSpec spec;
        try
        {
            spec = Prepare(job, user, jobDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogPrepareFailed(logger, job.Id, ex.Message);
            return new SandboxResult(SandboxJobStatus.Failed, SandboxReasons.Error, null, redactor.Redact($"cannot prepare the sandbox: {ex.Message}"), []);
        }

        using var timeout = new CancellationTokenSource(job.Timeout, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancel);
        SandboxExit exit;
        try
        {
            exit = await backend.RunAsync(spec, masked, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // A backend that gave up on its setup when told to stop: nothing ran, or it is gone now.
            exit = new SandboxExit(null, false, Killed: true);
        }
        catch (SandboxException ex)
        {
            var reason = ex.Kind == SandboxErrorKind.ImageNotFound ? SandboxReasons.ImageNotFound : SandboxReasons.Error;
            return new SandboxResult(SandboxJobStatus.Failed, reason, null, redactor.Redact(ex.Message), []);
        }

        SandboxResult result;
        if (exit.Killed && timeout.IsCancellationRequested && !cancel.IsCancellationRequested)
        {
            var message = $"killed: over its timeout of {FormatSeconds(job.Timeout)}";
            await masked.WriteLineAsync(SandboxStream.System, "harness: " + message, CancellationToken.None);
            result = new SandboxResult(SandboxJobStatus.TimedOut, SandboxReasons.Timeout, exit.ExitCode, message, []);
        }
        else if (exit.Killed)
        {
            const string message = "canceled";
            await masked.WriteLineAsync(SandboxStream.System, "harness: killed: the job was canceled", CancellationToken.None);
            result = new SandboxResult(SandboxJobStatus.Canceled, SandboxReasons.Canceled, exit.ExitCode, message, []);
        }
        else if (exit.OomKilled)
        {
            var message = $"killed: out of memory (limit {job.MemoryMb} MiB)";
            await masked.WriteLineAsync(SandboxStream.System, "harness: " + message, CancellationToken.None);
            result = new SandboxResult(SandboxJobStatus.Failed, SandboxReasons.OomKilled, exit.ExitCode, message, []);
        }
        else if (exit.ExitCode == 0)
        {
            result = new SandboxResult(SandboxJobStatus.Succeeded, SandboxReasons.Exit, 0, null, []);
        }
        else
        {
            var message = exit.ExitCode is { } code ? $"exited with code {code}" : exit.Detail ?? "ended without an exit code";
            result = new SandboxResult(SandboxJobStatus.Failed, SandboxReasons.Exit, exit.ExitCode, redactor.Redact(message), []);
        }

        var workspacePath = spec.Workspace.HostPath;
        if (job.Artifacts.Count > 0 && workspacePath is not null && Directory.Exists(workspacePath))
        {
            result = result with { Artifacts = CollectArtifacts(workspacePath, job.Artifacts) };
        }
        return result;
    }

    /// <summary>Removes the job's scratch folder (home, scratch workspace); artifacts' host paths end with it.</summary>
    public void CleanUp(Guid jobId)
    {
        var directory = JobDirectory(jobId);
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogCleanUpFailed(logger, jobId, ex.Message);
        }
    }

    private string JobDirectory(Guid jobId) => Path.Combine(Path.GetFullPath(options.WorkDirectory), jobId.ToString("N"));

    private SandboxSpec Prepare(SandboxJob job, SandboxUser user, string jobDirectory)
    {
        Directory.CreateDirectory(options.WorkDirectory);
        Directory.CreateDirectory(jobDirectory);
        if (OperatingSystem.IsLinux())
        {
            // The sandbox user must traverse the work folder (bubblewrap binds as that user); nobody may list it.
            var work = File.GetUnixFileMode(options.WorkDirectory);
            File.SetUnixFileMode(options.WorkDirectory, work | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            // Others may traverse to the folders the sandbox user owns, but not list the job folder.
            File.SetUnixFileMode(jobDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
        }

        var home = Path.Combine(jobDirectory, "home");
        Directory.CreateDirectory(home);
        var credentials = string.IsNullOrWhiteSpace(options.CredentialsDirectory) ? null : Path.GetFullPath(options.CredentialsDirectory);
        if (credentials is not null)
        {
            if (!Directory.Exists(credentials))
            {
                throw new IOException($"Agent:Sandbox:CredentialsDirectory '{credentials}' does not exist.");
            }
            CopyTree(credentials, home);
        }
        GiveToSandbox(home, user);

        SandboxMount workspace;
        if (job.Workspace is { } mount)
        {
            // A workspace volume is made by the agent (root); the sandbox user must be able to write it. Its
            // files become that user's, which root-run workspace instances still read and write.
            if (mount.HostPath is { } path && Directory.Exists(path))
            {
                GiveToSandbox(path, user);
            }
            workspace = mount;
        }
        else
        {
            var scratch = Path.Combine(jobDirectory, "workspace");
            Directory.CreateDirectory(scratch);
            GiveToSandbox(scratch, user);
            workspace = SandboxMount.Directory(scratch);
        }

        string? sshSocket = null;
        if (job.ForwardSshAgent)
        {
            sshSocket = string.IsNullOrWhiteSpace(options.SshAgentSocket) ? null : options.SshAgentSocket;
            if (sshSocket is null)
            {
                throw new IOException("the job asks for SSH agent forwarding but Agent:Sandbox:SshAgentSocket is not set on this agent.");
            }
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = DefaultPath,
            ["HOME"] = SandboxPaths.Home,
            ["USER"] = "sandbox",
            ["LOGNAME"] = "sandbox",
            ["TMPDIR"] = SandboxPaths.Tmp,
            ["HARNESS_JOB_ID"] = job.Id.ToString("D"),
            ["HARNESS_WORKSPACE"] = SandboxPaths.Workspace,
        };
        if (credentials is not null)
        {
            environment["HARNESS_CREDENTIALS"] = SandboxPaths.Credentials;
        }
        if (sshSocket is not null)
        {
            environment["SSH_AUTH_SOCK"] = SandboxPaths.SshAgentSocket;
        }
        foreach (var (name, value) in job.Environment)
        {
            environment[name] = value;
        }
        foreach (var (name, value) in job.Secrets)
        {
            environment[name] = value;
        }

        return new SandboxSpec
        {
            Name = "harness-job-" + job.Id.ToString("N"),
            Image = job.Image,
            Command = job.Command,
            Environment = environment,
            Network = job.Network,
            Cpus = job.Cpus,
            MemoryMb = job.MemoryMb,
            Pids = job.Pids,
            User = user,
            Workspace = workspace,
            HomeDirectory = home,
            CredentialsDirectory = credentials,
            SshAgentSocket = sshSocket,
        };
    }

    /// <summary>Makes a folder the sandbox user's: chown when the agent is root, else open it to everyone (its parent is not listable).</summary>
    private static void GiveToSandbox(string directory, SandboxUser user)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        if (UnixFiles.IsRoot)
        {
            UnixFiles.ChownTree(directory, user);
        }
        else if (UnixFiles.EffectiveUid != user.Uid)
        {
            File.SetUnixFileMode(directory, (UnixFileMode)0x1FF); // 0777
        }
    }

    private static void CopyTree(string source, string destination)
    {
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, entry.FullName));
            if (entry.LinkTarget is not null)
            {
                continue; // a link could point anywhere on the host; credentials are plain files
            }
            if (entry is DirectoryInfo)
            {
                Directory.CreateDirectory(target);
            }
            else
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(entry.FullName, target, overwrite: true);
            }
        }
    }

    /// <summary>
    /// Files matching the patterns, inside the workspace for real: anything reached through a symbolic link is
    /// skipped, since the job could point one at any file the agent can read.
    /// </summary>
    private List<SandboxArtifact> CollectArtifacts(string workspace, IReadOnlyList<string> patterns)
    {
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddIncludePatterns(patterns);
        var root = Path.GetFullPath(workspace);
        var artifacts = new List<SandboxArtifact>();
        long total = 0;
        foreach (var relative in matcher.GetResultsInFullPath(root).Select(p => Path.GetRelativePath(root, p)).Order(StringComparer.Ordinal))
        {
            if (artifacts.Count >= options.MaxArtifacts)
            {
                break;
            }
            if (relative.StartsWith("..", StringComparison.Ordinal) || ThroughLink(root, relative))
            {
                continue;
            }
            var file = new FileInfo(Path.Combine(root, relative));
            if (!file.Exists || total + file.Length > options.MaxArtifactBytes)
            {
                continue;
            }
            total += file.Length;
            artifacts.Add(new SandboxArtifact(relative.Replace(Path.DirectorySeparatorChar, '/'), file.FullName, file.Length));
        }
        return artifacts;
    }

    private static bool ThroughLink(string root, string relative)
    {
        var path = root;
        foreach (var part in relative.Split(Path.DirectorySeparatorChar))
        {
            path = Path.Combine(path, part);
            var info = new FileInfo(path);
            if (info.LinkTarget is not null)
            {
                return true;
            }
        }
        return false;
    }

    private static string FormatSeconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";

    private sealed class RedactingOutput(ISandboxOutput inner, SecretRedactor redactor) : ISandboxOutput
    {
        public ValueTask WriteLineAsync(SandboxStream stream, string line, CancellationToken cancellationToken) =>
            inner.WriteLineAsync(stream, redactor.Redact(line), cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox job {JobId}: cannot prepare its folders: {Reason}")]
    private static partial void LogPrepareFailed(ILogger logger, Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox job {JobId}: cannot remove its scratch folder: {Reason}")]
    private static partial void LogCleanUpFailed(ILogger logger, Guid jobId, string reason);
}
