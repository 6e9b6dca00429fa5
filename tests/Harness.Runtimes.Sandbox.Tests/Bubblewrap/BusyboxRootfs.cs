using System.Diagnostics;

namespace Harness.Runtimes.Sandbox.Tests.Bubblewrap;

/// <summary>
/// A root filesystem of Debian's busybox-static made in a temp folder: <c>{Directory}/busybox</c> with /bin (busybox
/// and a link per applet), /etc/passwd and /etc/group holding the <c>sandbox</c> user (1000:1000), the entrypoint of
/// deploy/sandbox at /usr/local/bin/entrypoint.sh, and empty /workspace, /home/sandbox and /tmp.
/// </summary>
public sealed class BusyboxRootfs : IDisposable
{
    public const string Image = "busybox";
    public const string Busybox = "/bin/busybox";

    public BusyboxRootfs()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("harness-rootfs-").FullName;
        var root = Path.Combine(Directory, Image);
        foreach (var folder in new[] { "bin", "etc", "usr/local/bin", "workspace", "home/sandbox", "tmp" })
        {
            System.IO.Directory.CreateDirectory(Path.Combine(root, folder));
        }
        // Missing busybox fails every test (the suite must not pass on a host that cannot run it); test.sh installs it.
        File.Copy(Busybox, Path.Combine(root, "bin", "busybox"));
        foreach (var applet in Applets().Where(a => a != "busybox"))
        {
            File.CreateSymbolicLink(Path.Combine(root, "bin", applet), "busybox");
        }
        File.WriteAllText(Path.Combine(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nsandbox:x:1000:1000:sandbox:/home/sandbox:/bin/sh\n");
        File.WriteAllText(Path.Combine(root, "etc", "group"), "root:x:0:\nsandbox:x:1000:\n");
        var entrypoint = Path.Combine(root, "usr", "local", "bin", "entrypoint.sh");
        File.Copy(Path.Combine(RepositoryRoot(), "deploy", "sandbox", "entrypoint.sh"), entrypoint);
        File.SetUnixFileMode(entrypoint, (UnixFileMode)0x1ED);
        // Readable by the sandbox user, who runs bwrap.
        foreach (var folder in System.IO.Directory.EnumerateDirectories(Directory, "*", SearchOption.AllDirectories).Prepend(Directory))
        {
            File.SetUnixFileMode(folder, (UnixFileMode)0x1ED); // 0755
        }
    }

    /// <summary>The folder to set as Agent:Sandbox:Bubblewrap:RootfsDirectory.</summary>
    public string Directory { get; }

    private static List<string> Applets()
    {
        using var list = Process.Start(new ProcessStartInfo(Busybox, ["--list"]) { RedirectStandardOutput = true })!;
        var applets = list.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        list.WaitForExit();
        return applets;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Harness.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Harness.slnx not found above " + AppContext.BaseDirectory);
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
