using System.Globalization;

namespace Harness.Runtimes.Sandbox.Bubblewrap;

/// <summary>
/// The bwrap options for a spec. They go to bwrap through <c>--args 0</c> (its stdin, NUL-separated) rather than
/// its argv, because they carry the environment, secrets included, and any user of the host may read another
/// process's argv in /proc.
/// </summary>
internal static class BubblewrapArguments
{
    public static List<string> Build(SandboxSpec spec, IReadOnlyList<RootEntry> root, string workspace, BubblewrapSandboxOptions options)
    {
        var args = new List<string>
        {
            // Every namespace; --unshare-user explicitly (not -try) so --disable-userns is allowed.
            "--unshare-all", "--unshare-user",
        };
        if (spec.Network == SandboxNetwork.Egress)
        {
            args.Add("--share-net");
        }
        args.AddRange([
            "--die-with-parent",
            "--new-session", // no TIOCSTI into the agent's terminal
            "--disable-userns", // no nested user namespace, so no "root" inside one either
            "--cap-drop", "ALL",
            "--uid", spec.User.Uid.ToString(CultureInfo.InvariantCulture),
            "--gid", spec.User.Gid.ToString(CultureInfo.InvariantCulture),
            "--hostname", "sandbox",
        ]);
        foreach (var entry in root)
        {
            if (entry.LinkTarget is not null)
            {
                args.AddRange(["--symlink", entry.LinkTarget, entry.Destination]);
            }
            else
            {
                args.AddRange(["--ro-bind", entry.Source!, entry.Destination]);
            }
        }
        args.AddRange([
            "--proc", "/proc",
            "--dev", "/dev",
            "--perms", "1777", "--size", ((long)Math.Max(1, options.TmpSizeMb) * 1024 * 1024).ToString(CultureInfo.InvariantCulture), "--tmpfs", SandboxPaths.Tmp,
            "--bind", workspace, SandboxPaths.Workspace,
            "--bind", spec.HomeDirectory, SandboxPaths.Home,
        ]);
        if (spec.CredentialsDirectory is { } credentials)
        {
            args.AddRange(["--ro-bind", credentials, SandboxPaths.Credentials]);
        }
        if (spec.SshAgentSocket is { } socket)
        {
            args.AddRange(["--bind", socket, SandboxPaths.SshAgentSocket]);
        }
        args.AddRange([
            // The root is bwrap's own tmpfs holding the mount points; read-only now, so only the binds above are writable.
            "--remount-ro", "/",
            "--chdir", SandboxPaths.Workspace,
            "--clearenv",
        ]);
        foreach (var (name, value) in spec.Environment.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            args.AddRange(["--setenv", name, value]);
        }
        if (!spec.Environment.ContainsKey("PWD"))
        {
            args.AddRange(["--setenv", "PWD", SandboxPaths.Workspace]);
        }
        return args;
    }

    /// <summary>The NUL-separated form <c>bwrap --args FD</c> reads.</summary>
    public static byte[] Encode(IEnumerable<string> args)
    {
        using var buffer = new MemoryStream();
        foreach (var arg in args)
        {
            if (arg.Contains('\0', StringComparison.Ordinal))
            {
                throw new SandboxException(SandboxErrorKind.Invalid, "an environment variable or path holds a NUL character.");
            }
            var bytes = System.Text.Encoding.UTF8.GetBytes(arg);
            buffer.Write(bytes);
            buffer.WriteByte(0);
        }
        return buffer.ToArray();
    }
}
