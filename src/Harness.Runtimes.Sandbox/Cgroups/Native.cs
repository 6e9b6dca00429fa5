using System.Runtime.InteropServices;

namespace Harness.Runtimes.Sandbox.Cgroups;

internal static partial class Native
{
    public const int SigKill = 9;

    /// <summary>kill(2); errors (the process is already gone) are ignored.</summary>
    public static void Kill(int pid, int signal)
    {
        if (pid > 1)
        {
            _ = kill(pid, signal);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
