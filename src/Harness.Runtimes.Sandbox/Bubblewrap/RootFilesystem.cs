namespace Harness.Runtimes.Sandbox.Bubblewrap;

/// <summary>One top-level entry of the sandbox's root: a read-only bind of a host path, or a symlink.</summary>
internal sealed record RootEntry(string Destination, string? Source, string? LinkTarget);

/// <summary>
/// What a bubblewrap "image" is: a directory <c>{RootfsDirectory}/{name}</c> whose top-level entries are bound
/// read-only at /, or <c>host</c>, the host's own /usr, /bin, /lib, /lib64, /sbin and /etc. The sandbox's own
/// mount points (/proc, /dev, /tmp, /workspace, /home, /run, /sys) are never taken from the image.
/// </summary>
internal static class RootFilesystem
{
    public const string HostImage = "host";

    private static readonly string[] HostDirectories = ["/usr", "/bin", "/lib", "/lib32", "/lib64", "/libx32", "/sbin", "/etc"];

    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal) { "proc", "dev", "tmp", "sys", "run", "home", "workspace" };

    public static IReadOnlyList<RootEntry> Resolve(string image, string? rootfsDirectory)
    {
        if (image == HostImage)
        {
            return HostDirectories.Select(Entry).OfType<RootEntry>().ToList();
        }
        if (string.IsNullOrWhiteSpace(rootfsDirectory))
        {
            throw new SandboxException(SandboxErrorKind.ImageNotFound,
                $"root filesystem '{image}' not found: Agent:Sandbox:Bubblewrap:RootfsDirectory is not set (only the image '{HostImage}' works without it).");
        }
        if (!IsPlainName(image))
        {
            throw new SandboxException(SandboxErrorKind.ImageNotFound,
                $"root filesystem '{image}' not found: a bubblewrap image is the name of a folder in {rootfsDirectory} (letters, digits, '.', '_', '-', ':').");
        }
        var root = Path.Combine(Path.GetFullPath(rootfsDirectory), image);
        if (!Directory.Exists(root))
        {
            throw new SandboxException(SandboxErrorKind.ImageNotFound, $"root filesystem '{image}' not found: no folder {root}.");
        }
        return new DirectoryInfo(root)
            .EnumerateFileSystemInfos()
            .Where(e => !Reserved.Contains(e.Name))
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .Select(e => Entry(e.FullName, "/" + e.Name))
            .OfType<RootEntry>()
            .ToList();
    }

    private static bool IsPlainName(string image) =>
        image.Length is > 0 and <= 128
        && image[0] != '.'
        && image.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':');

    private static RootEntry? Entry(string hostPath) => Entry(hostPath, hostPath);

    private static RootEntry? Entry(string hostPath, string destination)
    {
        var info = new FileInfo(hostPath);
        if (info.LinkTarget is { } target)
        {
            return new RootEntry(destination, null, target);
        }
        if (info.Exists || Directory.Exists(hostPath))
        {
            return new RootEntry(destination, hostPath, null);
        }
        return null;
    }
}
