using System.Runtime.InteropServices;

namespace Harness.Runtimes.Sandbox;

/// <summary>The few POSIX calls .NET does not offer: the effective uid, and chown.</summary>
internal static partial class UnixFiles
{
    public static bool IsRoot => OperatingSystem.IsLinux() && geteuid() == 0;

    public static int EffectiveUid => OperatingSystem.IsLinux() ? (int)geteuid() : -1;

    /// <summary>Gives <paramref name="path"/> (without following a symlink) to uid:gid.</summary>
    public static void Chown(string path, SandboxUser user)
    {
        if (lchown(path, (uint)user.Uid, (uint)user.Gid) != 0)
        {
            throw new IOException($"chown {user} {path} failed (errno {Marshal.GetLastPInvokeError()}).");
        }
    }

    /// <summary>Gives <paramref name="root"/> and everything under it to uid:gid; symlinks are changed, never followed.</summary>
    public static void ChownTree(string root, SandboxUser user)
    {
        Chown(root, user);
        foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos("*", new EnumerationOptions
        {
            RecurseSubdirectories = true,
            AttributesToSkip = 0,
            IgnoreInaccessible = false,
        }))
        {
            Chown(entry.FullName, user);
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial uint geteuid();

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lchown(string path, uint owner, uint group);
}
