using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace Harness.Agent.Tests.Fakes;

/// <summary>
/// Lets fake time flow while the code under test runs: advances the clock in small steps until the
/// task ends, so a 15 s grace wait takes milliseconds and every timestamp it reports is exact fake time.
/// </summary>
internal static class ClockPump
{
    public static async Task<T> RunAsync<T>(FakeTimeProvider time, Task<T> task, int stepMs = 50)
    {
        var watch = Stopwatch.StartNew();
        while (!task.IsCompleted)
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(20))
            {
                throw new TimeoutException("the task did not end within 20 s of real time");
            }
            time.Advance(TimeSpan.FromMilliseconds(stepMs));
            await Task.Delay(1);
            // Let the continuations the advance released run before time moves on (bounded: other tests share the pool).
            var settle = Stopwatch.StartNew();
            while (ThreadPool.PendingWorkItemCount > 0 && settle.ElapsedMilliseconds < 50)
            {
                await Task.Delay(1);
            }
        }
        return await task;
    }
}
