using System.Globalization;

namespace Harness.Runtimes.Sandbox.Cgroups;

/// <summary>
/// Finds this host's cgroup layout and makes a cgroup per sandbox under a <c>harness-sandbox</c> parent inside the
/// agent's own cgroup. cgroup v2 (unified; <c>/sys/fs/cgroup/cgroup.controllers</c> exists) is preferred; otherwise
/// cgroup v1 with the memory, pids and cpu controllers (and freezer, when mounted, for a race-free kill).
/// </summary>
public abstract class CgroupManager
{
    public const string ParentName = "harness-sandbox";

    public abstract string Version { get; }

    /// <summary>Creates the sandbox's cgroup with its limits set. Throws <see cref="SandboxException"/> when it cannot.</summary>
    public abstract SandboxCgroup Create(string name, CgroupLimits limits);

    /// <summary>This host's manager, or why there is none (no writable memory/pids/cpu cgroups).</summary>
    public static CgroupManager? Detect(out string? unavailableReason, string root = "/sys/fs/cgroup", string selfCgroup = "/proc/self/cgroup")
    {
        unavailableReason = null;
        string[] lines;
        try
        {
            lines = File.ReadAllLines(selfCgroup);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            unavailableReason = $"cannot read {selfCgroup}: {ex.Message}";
            return null;
        }

        CgroupManager? manager;
        if (File.Exists(Path.Combine(root, "cgroup.controllers")))
        {
            var path = lines.Select(l => l.Split(':', 3)).FirstOrDefault(p => p.Length == 3 && p[0] == "0" && p[1] == "")?[2];
            manager = path is null ? null : new CgroupV2Manager(Path.Combine(root, path.TrimStart('/')));
            if (manager is null)
            {
                unavailableReason = $"cgroup v2 is mounted at {root} but {selfCgroup} has no 0:: line";
                return null;
            }
        }
        else
        {
            var controllers = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var parts in lines.Select(l => l.Split(':', 3)).Where(p => p.Length == 3))
            {
                foreach (var controller in parts[1].Split(','))
                {
                    controllers[controller] = parts[2];
                }
            }
            string? Dir(string controller) =>
                controllers.TryGetValue(controller, out var p) && Directory.Exists(Path.Combine(root, controller))
                    ? Path.Combine(root, controller, p.TrimStart('/'))
                    : null;
            var memory = Dir("memory");
            var pids = Dir("pids");
            var cpu = Dir("cpu");
            if (memory is null || pids is null || cpu is null)
            {
                unavailableReason = $"neither cgroup v2 nor the cgroup v1 memory, pids and cpu controllers are mounted under {root}";
                return null;
            }
            manager = new CgroupV1Manager(memory, pids, cpu, Dir("freezer"));
        }

        try
        {
            // Proves this agent may make sandbox cgroups here before any job depends on it.
            using var probe = manager.Create(
                "probe-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8], new CgroupLimits(64L << 20, 16, 1));
        }
        catch (SandboxException ex)
        {
            unavailableReason = ex.Message;
            return null;
        }
        return manager;
    }

    internal static void CreateDirectory(string path)
    {
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SandboxException(SandboxErrorKind.Unavailable,
                $"cannot create the cgroup {path}: {ex.Message} (the bubblewrap backend needs an agent running as root, or a cgroup delegated to it)", ex);
        }
    }

    internal static void SetLimit(string directory, string file, string value)
    {
        try
        {
            SandboxCgroup.Write(Path.Combine(directory, file), value);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SandboxException(SandboxErrorKind.Unavailable, $"cannot set {file} = {value} in the cgroup {directory}: {ex.Message}", ex);
        }
    }
}
