namespace Harness.Runtimes.Sandbox.Cgroups;

/// <summary>The limits one sandbox's cgroup enforces.</summary>
/// <param name="MemoryBytes">Memory, and memory plus swap (so swap is no escape).</param>
/// <param name="Pids">Most processes and threads at once.</param>
/// <param name="Cpus">CPU cores, as a CFS quota over a 100 ms period.</param>
public readonly record struct CgroupLimits(long MemoryBytes, int Pids, double Cpus)
{
    public const long CpuPeriodMicroseconds = 100_000;

    /// <summary>The CFS quota for <see cref="Cpus"/>; the kernel refuses less than 1 ms.</summary>
    public long CpuQuotaMicroseconds => Math.Max(1_000, (long)Math.Round(Cpus * CpuPeriodMicroseconds));
}

/// <summary>
/// One sandbox's cgroup (v1: one directory per controller; v2: one directory). Processes join it by writing their
/// pid to every file in <see cref="ProcsFiles"/> before they exec the command, so nothing escapes the limits.
/// </summary>
public abstract class SandboxCgroup : IDisposable
{
    /// <summary>The <c>cgroup.procs</c> files a process writes its pid to, to join the cgroup.</summary>
    public abstract IReadOnlyList<string> ProcsFiles { get; }

    /// <summary>How many times the kernel's OOM killer killed a process of this cgroup.</summary>
    public abstract long OomKills();

    /// <summary>Pids of the processes still in the cgroup.</summary>
    public abstract IReadOnlyList<int> Pids();

    /// <summary>SIGKILLs every process in the cgroup, again and again until none is left or <paramref name="within"/> passes.</summary>
    /// <returns>True when the cgroup is empty.</returns>
    public abstract Task<bool> KillAllAsync(TimeSpan within);

    /// <summary>Removes the cgroup's directories (they must be empty of processes).</summary>
    protected abstract void Remove();

    public void Dispose()
    {
        Remove();
        GC.SuppressFinalize(this);
    }

    internal static long ReadKey(string file, string key)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length == 2 && parts[0] == key && long.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var value))
                {
                    return value;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
        return 0;
    }

    internal static List<int> ReadPids(string procsFile)
    {
        var pids = new List<int>();
        try
        {
            foreach (var line in File.ReadLines(procsFile))
            {
                if (int.TryParse(line, System.Globalization.CultureInfo.InvariantCulture, out var pid))
                {
                    pids.Add(pid);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
        return pids;
    }

    internal static void Write(string file, string value) => File.WriteAllText(file, value);

    /// <summary>A write the caller may lose (the group is already gone, or the kernel refuses it).</summary>
    internal static bool TryWrite(string file, string value)
    {
        try
        {
            Write(file, value);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>rmdir, retried for up to a second while the kernel is still reaping the last killed processes.</summary>
    internal static void RemoveDirectory(string directory)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (Directory.Exists(directory))
                {
                    Directory.Delete(directory); // rmdir(2): a cgroup directory's files are not real files
                }
                return;
            }
            catch (IOException) when (attempt < 50 && ReadPids(Path.Combine(directory, "cgroup.procs")).Count > 0)
            {
                Thread.Sleep(20);
            }
        }
    }
}
