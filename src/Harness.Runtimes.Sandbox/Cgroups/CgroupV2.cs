using System.Globalization;

namespace Harness.Runtimes.Sandbox.Cgroups;

/// <summary>
/// cgroup v2: <c>{agent's cgroup}/harness-sandbox/{name}</c>. A cgroup with processes cannot hand controllers to
/// its children, so when the agent's own cgroup holds processes they move to a leaf <c>{agent's cgroup}/agent</c>
/// first (what systemd calls delegation).
/// </summary>
internal sealed class CgroupV2Manager(string agentCgroup) : CgroupManager
{
    private const string Controllers = "+memory +pids +cpu";
    private readonly Lock _parentLock = new();
    private string? _parent;

    public override string Version => "v2";

    public override SandboxCgroup Create(string name, CgroupLimits limits)
    {
        var parent = EnsureParent();
        var directory = Path.Combine(parent, name);
        CreateDirectory(directory);
        try
        {
            SetLimit(directory, "memory.max", limits.MemoryBytes.ToString(CultureInfo.InvariantCulture));
            if (File.Exists(Path.Combine(directory, "memory.swap.max")))
            {
                SetLimit(directory, "memory.swap.max", "0");
            }
            SetLimit(directory, "pids.max", limits.Pids.ToString(CultureInfo.InvariantCulture));
            SetLimit(directory, "cpu.max", string.Create(CultureInfo.InvariantCulture, $"{limits.CpuQuotaMicroseconds} {CgroupLimits.CpuPeriodMicroseconds}"));
            return new CgroupV2(directory);
        }
        catch
        {
            SandboxCgroup.RemoveDirectory(directory);
            throw;
        }
    }

    private string EnsureParent()
    {
        lock (_parentLock)
        {
            if (_parent is not null)
            {
                return _parent;
            }
            if (!EnableControllers(agentCgroup))
            {
                var leaf = Path.Combine(agentCgroup, "agent");
                CreateDirectory(leaf);
                foreach (var pid in SandboxCgroup.ReadPids(Path.Combine(agentCgroup, "cgroup.procs")))
                {
                    try
                    {
                        SandboxCgroup.Write(Path.Combine(leaf, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
                    }
                    catch (IOException)
                    {
                        // A process that exited meanwhile, or a kernel thread: nothing to move.
                    }
                }
                if (!EnableControllers(agentCgroup))
                {
                    throw new SandboxException(SandboxErrorKind.Unavailable,
                        $"cannot enable the memory, pids and cpu controllers in {agentCgroup}/cgroup.subtree_control (are they delegated to this agent?)");
                }
            }
            var parent = Path.Combine(agentCgroup, ParentName);
            CreateDirectory(parent);
            if (!EnableControllers(parent))
            {
                throw new SandboxException(SandboxErrorKind.Unavailable, $"cannot enable the memory, pids and cpu controllers in {parent}/cgroup.subtree_control");
            }
            return _parent = parent;
        }
    }

    private static bool EnableControllers(string directory)
    {
        var file = Path.Combine(directory, "cgroup.subtree_control");
        try
        {
            var enabled = File.ReadAllText(file).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (enabled.Contains("memory") && enabled.Contains("pids") && enabled.Contains("cpu"))
            {
                return true;
            }
            SandboxCgroup.Write(file, Controllers);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}

internal sealed class CgroupV2(string directory) : SandboxCgroup
{
    public override IReadOnlyList<string> ProcsFiles { get; } = [Path.Combine(directory, "cgroup.procs")];

    public override long OomKills() => ReadKey(Path.Combine(directory, "memory.events"), "oom_kill");

    public override IReadOnlyList<int> Pids() => ReadPids(Path.Combine(directory, "cgroup.procs"));

    public override async Task<bool> KillAllAsync(TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        var kill = Path.Combine(directory, "cgroup.kill");
        var freeze = Path.Combine(directory, "cgroup.freeze");
        while (true)
        {
            var alive = Pids();
            if (alive.Count == 0)
            {
                return true;
            }
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            if (!TryWrite(kill, "1"))
            {
                // Before Linux 5.14: freeze, kill each, thaw.
                var frozen = TryWrite(freeze, "1");
                foreach (var pid in frozen ? Pids() : alive)
                {
                    Native.Kill(pid, Native.SigKill);
                }
                TryWrite(freeze, "0");
            }
            await Task.Delay(10);
        }
    }

    protected override void Remove()
    {
        try
        {
            RemoveDirectory(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
