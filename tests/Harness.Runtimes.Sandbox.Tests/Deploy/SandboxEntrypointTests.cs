using System.Net.Sockets;
using Harness.Runtimes.Sandbox.Bubblewrap;
using Harness.Runtimes.Sandbox.Tests.Bubblewrap;
using Microsoft.Extensions.Logging.Abstractions;

namespace Harness.Runtimes.Sandbox.Tests.Deploy;

/// <summary>
/// deploy/sandbox/entrypoint.sh for real, with busybox sh inside a bubblewrap sandbox (the fixture's root filesystem
/// holds it at /usr/local/bin/entrypoint.sh). The backend is driven directly, so the home starts empty, as in a fresh
/// container, and only the entrypoint copies the credentials.
/// </summary>
public sealed class SandboxEntrypointTests(BusyboxRootfs rootfs) : IClassFixture<BusyboxRootfs>, IDisposable
{
    private const string Entrypoint = "/usr/local/bin/entrypoint.sh";
    private static readonly SandboxUser User = new(1000, 1000);

    private readonly string _root = Directory.CreateTempSubdirectory("harness-entrypoint-tests-").FullName;

    [Fact]
    public async Task Entrypoint_CopiesCredentialsOnceWithoutPrintingThemAndExecsTheCommandWithItsArguments()
    {
        File.SetUnixFileMode(_root, (UnixFileMode)0x1ED);
        var credentials = Path.Combine(_root, "credentials");
        Directory.CreateDirectory(Path.Combine(credentials, ".tool"));
        await File.WriteAllTextAsync(Path.Combine(credentials, ".tool", "config"), "token-abc-123\n");
        File.SetUnixFileMode(credentials, (UnixFileMode)0x1ED);
        File.SetUnixFileMode(Path.Combine(credentials, ".tool"), (UnixFileMode)0x1ED);
        var home = Owned("home");
        var workspace = Owned("workspace");

        var first = await RunAsync(home, workspace, credentials,
            "cat \"$HOME/.tool/config\"; ls -l \"$HOME/.tool/config\" | cut -c1-10; [ -e \"$HOME/.harness-credentials-copied\" ] && echo marked; echo \"args=$0|$1\"; echo edited > \"$HOME/.tool/config\"",
            "first arg", "second arg");
        Assert.Equal(["token-abc-123", "-rw-------", "marked", "args=first arg|second arg"], first.Stdout);
        Assert.Empty(first.Stderr);

        // The host's credentials change; the sandbox's home keeps its own edit, and a new file is not copied either.
        await File.WriteAllTextAsync(Path.Combine(credentials, ".tool", "config"), "token-new\n");
        await File.WriteAllTextAsync(Path.Combine(credentials, ".tool", "other"), "x\n");
        var second = await RunAsync(home, workspace, credentials,
            "cat \"$HOME/.tool/config\"; [ -e \"$HOME/.tool/other\" ] && echo copied-again || echo not-copied-again");
        Assert.Equal(["edited", "not-copied-again"], second.Stdout);
    }

    [Fact]
    public async Task Entrypoint_KeepsFilesAlreadyInTheHome()
    {
        File.SetUnixFileMode(_root, (UnixFileMode)0x1ED);
        var credentials = Path.Combine(_root, "credentials");
        Directory.CreateDirectory(credentials);
        await File.WriteAllTextAsync(Path.Combine(credentials, ".netrc"), "from credentials\n");
        File.SetUnixFileMode(credentials, (UnixFileMode)0x1ED);
        var home = Owned("home");
        await File.WriteAllTextAsync(Path.Combine(home, ".netrc"), "already here\n");
        UnixFiles.ChownTree(home, User);
        var run = await RunAsync(home, Owned("workspace"), credentials, "cat \"$HOME/.netrc\"");
        Assert.Equal(["already here"], run.Stdout);
    }

    [Fact]
    public async Task Entrypoint_WithAForwardedAgentSocket_SetsSshAuthSock()
    {
        File.SetUnixFileMode(_root, (UnixFileMode)0x1ED);
        var socketPath = Path.Combine(_root, "agent.sock");
        using var agent = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        agent.Bind(new UnixDomainSocketEndPoint(socketPath));
        agent.Listen();
        File.SetUnixFileMode(socketPath, (UnixFileMode)0x1FF);
        var run = await RunAsync(Owned("home"), Owned("workspace"), null, "echo \"sock=$SSH_AUTH_SOCK\"; [ -S \"$SSH_AUTH_SOCK\" ] && echo is-socket", ssh: socketPath);
        Assert.Equal(["sock=/run/harness/ssh-agent.sock", "is-socket"], run.Stdout);
    }

    private string Owned(string name)
    {
        var path = Path.Combine(_root, name);
        Directory.CreateDirectory(path);
        UnixFiles.Chown(path, User);
        return path;
    }

    private async Task<(List<string> Stdout, List<string> Stderr)> RunAsync(
        string home, string workspace, string? credentials, string script, string arg0 = "sh", string? arg1 = null, string? ssh = null)
    {
        var options = new SandboxOptions { Bubblewrap = { RootfsDirectory = rootfs.Directory } };
        var backend = new BubblewrapSandboxBackend(options, NullLogger<BubblewrapSandboxBackend>.Instance);
        List<string> command = [Entrypoint, "sh", "-c", script, arg0];
        if (arg1 is not null)
        {
            command.Add(arg1);
        }
        var environment = new Dictionary<string, string> { ["PATH"] = "/bin", ["HOME"] = SandboxPaths.Home };
        if (credentials is not null)
        {
            environment["HARNESS_CREDENTIALS"] = SandboxPaths.Credentials;
        }
        var spec = new SandboxSpec
        {
            Name = "harness-entrypoint-" + Guid.NewGuid().ToString("N"),
            Image = BusyboxRootfs.Image,
            Command = command,
            Environment = environment,
            User = User,
            Workspace = SandboxMount.Directory(workspace),
            HomeDirectory = home,
            CredentialsDirectory = credentials,
            SshAgentSocket = ssh,
            MemoryMb = 64,
            Pids = 32,
        };
        var output = new Output();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var exit = await backend.RunAsync(spec, output, timeout.Token);
        Assert.True(exit.ExitCode == 0, $"exit {exit.ExitCode}: {string.Join('\n', output.Stderr)}");
        return (output.Stdout, output.Stderr);
    }

    private sealed class Output : ISandboxOutput
    {
        public List<string> Stdout { get; } = [];

        public List<string> Stderr { get; } = [];

        public ValueTask WriteLineAsync(SandboxStream stream, string line, CancellationToken cancellationToken)
        {
            lock (this)
            {
                (stream == SandboxStream.Stdout ? Stdout : Stderr).Add(line);
            }
            return ValueTask.CompletedTask;
        }
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
