using System.Globalization;

namespace Harness.Runtimes.Sandbox.Cgroups;

/// <summary>cgroup v1: the sandbox gets a directory in each of the memory, pids and cpu hierarchies (and freezer).</summary>
internal sealed class CgroupV1Manager(string memory, string pids, string cpu, string? freezer) : CgroupManager
{
    public override string Version => "v1";

    public override SandboxCgroup Create(string name, CgroupLimits limits)
    {
        var created = new List<string>();
        try
        {
            string Make(string controllerRoot)
            {
                var directory = Path.Combine(controllerRoot, ParentName, name);
                CreateDirectory(directory);
                created.Add(directory);
                return directory;
            }
            var memoryDir = Make(memory);
            var pidsDir = Make(pids);
            var cpuDir = Make(cpu);
            var freezerDir = freezer is null ? null : Make(freezer);

            var bytes = limits.MemoryBytes.ToString(CultureInfo.InvariantCulture);
            SetLimit(memoryDir, "memory.limit_in_bytes", bytes);
            if (File.Exists(Path.Combine(memoryDir, "memory.memsw.limit_in_bytes")))
            {
                SetLimit(memoryDir, "memory.memsw.limit_in_bytes", bytes); // memory + swap = memory: no swap
            }
            SetLimit(pidsDir, "pids.max", limits.Pids.ToString(CultureInfo.InvariantCulture));
            SetLimit(cpuDir, "cpu.cfs_period_us", CgroupLimits.CpuPeriodMicroseconds.ToString(CultureInfo.InvariantCulture));
            SetLimit(cpuDir, "cpu.cfs_quota_us", limits.CpuQuotaMicroseconds.ToString(CultureInfo.InvariantCulture));
            return new CgroupV1(memoryDir, pidsDir, cpuDir, freezerDir);
        }
        catch
        {
            created.Reverse();
            created.ForEach(SandboxCgroup.RemoveDirectory);
            throw;
        }
    }
}

internal sealed class CgroupV1(string memory, string pids, string cpu, string? freezer) : SandboxCgroup
{
    public override IReadOnlyList<string> ProcsFiles { get; } =
        new[] { memory, pids, cpu, freezer }.OfType<string>().Select(d => Path.Combine(d, "cgroup.procs")).ToArray();

    public override long OomKills() => ReadKey(Path.Combine(memory, "memory.oom_control"), "oom_kill");

    public override IReadOnlyList<int> Pids() => ReadPids(Path.Combine(pids, "cgroup.procs"));

    public override async Task<bool> KillAllAsync(TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
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
            // Frozen, nothing can fork between reading the list and killing it.
            var frozen = freezer is not null && await FreezeAsync(freezer);
            foreach (var pid in frozen ? Pids() : alive)
            {
                Native.Kill(pid, Native.SigKill);
            }
            if (freezer is not null)
            {
                TryWrite(Path.Combine(freezer, "freezer.state"), "THAWED");
            }
            await Task.Delay(10);
        }
    }

    private static async Task<bool> FreezeAsync(string directory)
    {
        var state = Path.Combine(directory, "freezer.state");
        if (!TryWrite(state, "FROZEN"))
        {
            return false;
        }
        for (var i = 0; i < 50; i++)
        {
            try
            {
                if (File.ReadAllText(state).Trim() == "FROZEN")
                {
                    return true;
                }
            }
            catch (IOException)
            {
                return false;
            }
            await Task.Delay(5);
        }
        return false;
    }

    protected override void Remove()
    {
        foreach (var directory in new[] { freezer, cpu, pids, memory }.OfType<string>())
        {
            try
            {
                RemoveDirectory(directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Left behind rather than failing the job (the backend logs it when processes remain).
            }
        }
    }
}
