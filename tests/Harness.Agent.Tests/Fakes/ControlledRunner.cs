using System.Collections.Concurrent;
using System.Threading.Channels;
using Harness.Agent.Execution;
using Harness.Contracts.Dispatch;

namespace Harness.Agent.Tests.Fakes;

/// <summary>A task runner the test finishes by hand, recording start order and how many ran at once.</summary>
internal sealed class ControlledRunner : ITaskRunner
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string?>> _running = new();
    private readonly Channel<DeviceTask> _started = Channel.CreateUnbounded<DeviceTask>();
    private int _now;
    private int _max;

    public int MaxParallel => Volatile.Read(ref _max);

    public ConcurrentQueue<string> Ended { get; } = new();

    public async Task<string?> RunAsync(DeviceTask task, CancellationToken cancel, CancellationToken shutdown)
    {
        var done = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _running[Key(task)] = done;
        var now = Interlocked.Increment(ref _now);
        InterlockedMax(ref _max, now);
        using var onCancel = cancel.Register(() => done.TrySetResult($"cancelled-{task.DeviceId}"));
        using var onShutdown = shutdown.Register(() => done.TrySetResult(null));
        _started.Writer.TryWrite(task);
        try
        {
            var result = await done.Task;
            Ended.Enqueue($"{task.DeviceId}:{(cancel.IsCancellationRequested ? "cancelled" : shutdown.IsCancellationRequested ? "shutdown" : "done")}");
            return result;
        }
        finally
        {
            Interlocked.Decrement(ref _now);
            _running.TryRemove(Key(task), out _);
        }
    }

    /// <summary>Ends the running task of this device; returns its final event id.</summary>
    public string Finish(DeviceTask task)
    {
        var id = $"final-{task.DeviceId}-{task.RunId:N}";
        Assert.True(_running.TryGetValue(Key(task), out var done), $"{task.DeviceId} is not running");
        done.TrySetResult(id);
        return id;
    }

    public async Task<DeviceTask> NextStartedAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _started.Reader.ReadAsync(timeout.Token);
    }

    /// <summary>True when nothing else starts within a short real-time window.</summary>
    public async Task<bool> NothingStartsAsync()
    {
        await Task.Delay(150);
        return !_started.Reader.TryPeek(out _);
    }

    private static string Key(DeviceTask t) => $"{t.RunId}/{t.DeviceId}/{t.Attempt}";

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
