using Harness.Runtimes.Sandbox.Cgroups;

namespace Harness.Runtimes.Sandbox.Tests.Cgroups;

/// <summary>
/// Layout and limit files on fake cgroup trees (plain folders), for the cgroup version this host does not have; the
/// real kernel behaviour (limits enforced, OOM counted, kill) is what the conformance suite shows.
/// </summary>
public sealed class CgroupManagerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harness-fake-cgroup-").FullName;

    private string Write(string relative, string text)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private string Read(string relative) => File.ReadAllText(Path.Combine(_root, relative)).Trim();

    [Fact]
    public void Detect_V2_MakesTheSandboxCgroupUnderTheAgentsOwnWithItsLimits()
    {
        Write("fs/cgroup.controllers", "cpuset cpu io memory pids");
        Write("fs/system.slice/harness-agent.service/cgroup.subtree_control", "");
        Write("fs/system.slice/harness-agent.service/harness-sandbox/cgroup.subtree_control", "memory pids cpu");
        var self = Write("self-cgroup", "0::/system.slice/harness-agent.service\n");

        var manager = CgroupManager.Detect(out var reason, Path.Combine(_root, "fs"), self);
        Assert.True(manager is not null, reason);
        Assert.Equal("v2", manager.Version);
        var cgroup = manager.Create("job-1", new CgroupLimits(64L << 20, 32, 1.5));

        const string dir = "fs/system.slice/harness-agent.service/harness-sandbox/job-1";
        Assert.Equal("+memory +pids +cpu", Read("fs/system.slice/harness-agent.service/cgroup.subtree_control"));
        Assert.Equal("67108864", Read(dir + "/memory.max"));
        Assert.Equal("32", Read(dir + "/pids.max"));
        Assert.Equal("150000 100000", Read(dir + "/cpu.max"));
        Assert.Equal([Path.Combine(_root, dir, "cgroup.procs")], cgroup.ProcsFiles);
    }

    [Fact]
    public void Detect_V1_MakesOneCgroupPerControllerUnderTheAgentsPathInEach()
    {
        foreach (var controller in new[] { "memory", "pids", "cpu", "freezer" })
        {
            Directory.CreateDirectory(Path.Combine(_root, "fs", controller));
        }
        Directory.CreateDirectory(Path.Combine(_root, "fs", "unified")); // hybrid: an empty v2 beside v1
        var self = Write("self-cgroup", "9:name=systemd:/\n8:pids:/\n6:freezer:/\n4:memory:/process_api/abc\n1:cpu,cpuacct:/\n0::/\n");

        var manager = CgroupManager.Detect(out var reason, Path.Combine(_root, "fs"), self);
        Assert.True(manager is not null, reason);
        Assert.Equal("v1", manager.Version);
        var cgroup = manager.Create("job-1", new CgroupLimits(48L << 20, 16, 0.5));

        Assert.Equal("50331648", Read("fs/memory/process_api/abc/harness-sandbox/job-1/memory.limit_in_bytes"));
        Assert.Equal("16", Read("fs/pids/harness-sandbox/job-1/pids.max"));
        Assert.Equal("100000", Read("fs/cpu/harness-sandbox/job-1/cpu.cfs_period_us"));
        Assert.Equal("50000", Read("fs/cpu/harness-sandbox/job-1/cpu.cfs_quota_us"));
        Assert.Equal(4, cgroup.ProcsFiles.Count);
    }

    [Fact]
    public void Detect_NoControllers_SaysWhy()
    {
        Directory.CreateDirectory(Path.Combine(_root, "fs", "memory"));
        var self = Write("self-cgroup", "4:memory:/\n");
        Assert.Null(CgroupManager.Detect(out var reason, Path.Combine(_root, "fs"), self));
        Assert.Contains("pids", reason, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
