using System.Collections.Concurrent;
using System.Diagnostics;

namespace Harness.Runtimes.Sandbox.Bubblewrap;

/// <summary>
/// Starts processes from one thread that lives as long as the agent. bwrap's <c>--die-with-parent</c>
/// (PR_SET_PDEATHSIG) fires when the *thread* that forked it exits, not the process: started from a thread-pool
/// thread, a sandbox would be SIGKILLed whenever the pool retires that thread.
/// </summary>
internal static class SpawnThread
{
    private static readonly BlockingCollection<(ProcessStartInfo Start, TaskCompletionSource<Process> Started)> Queue = [];

    static SpawnThread()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "harness-sandbox-spawn" };
        thread.Start();
    }

    public static Task<Process> StartAsync(ProcessStartInfo start)
    {
        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        Queue.Add((start, started));
        return started.Task;
    }

    private static void Run()
    {
        foreach (var (start, started) in Queue.GetConsumingEnumerable())
        {
            try
            {
                var process = new Process { StartInfo = start };
                process.Start();
                started.SetResult(process);
            }
            catch (Exception ex)
            {
                started.SetException(ex);
            }
        }
    }
}
