using Harness.Agent.Listener;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Runs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Execution;

/// <summary>
/// Decides which received task runs when (DESIGN.md §4): one FIFO queue per device; a device
/// runs one task at a time; devices with queued work take turns (round-robin); at most
/// <see cref="DevicesOptions.MaxConcurrency"/> tasks run at once, and a run never has more than its
/// <c>run_concurrency</c> devices running on this node (1 = strictly one after another); a freed
/// slot is filled at once.
/// <para>
/// A task stays <see cref="Held"/> (listed in every pull, so its lease is renewed) from receipt until
/// the outbox has delivered its terminal status, so the server never mistakes a finished task whose
/// report is still queued for a lost one.
/// </para>
/// <para>
/// Shutdown (SIGTERM): tasks not yet started are handed back (<see cref="TakeQueued"/>, released by
/// the pull loop), running tasks get <see cref="DevicesOptions.ShutdownDrainSec"/> to finish, and
/// those still running are stopped and report <c>agent_shutdown</c>; the outbox sender, stopped
/// last, flushes the reports.
/// </para>
/// </summary>
public sealed partial class DeviceScheduler(
    ITaskRunner runner,
    DeviceHealth health,
    IOutbox outbox,
    AgentStatus status,
    IOptions<AgentOptions> options,
    TimeProvider time,
    ILogger<DeviceScheduler> logger) : IHostedService, IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<TaskRef, Entry> _held = [];
    private readonly Dictionary<string, Queue<Entry>> _queues = new(StringComparer.Ordinal);
    private readonly List<string> _rotation = [];
    private readonly HashSet<string> _busyDevices = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, int> _runningPerRun = [];
    private readonly CancellationTokenSource _shutdown = new();
    private int _cursor;
    private int _running;
    private int _queued;
    private bool _stopping;

    public int MaxConcurrency => options.Value.Devices.MaxConcurrency;

    /// <summary>Set whenever a task ends or leaves the queue, so the pull loop asks for more at once.</summary>
    public AsyncSignal SlotFreed { get; } = new();

    /// <summary>How many more tasks this node can take: capacity minus running and queued tasks.</summary>
    public int FreeSlots
    {
        get
        {
            lock (_lock)
            {
                return _stopping ? 0 : Math.Max(0, MaxConcurrency - _running - _queued);
            }
        }
    }

    public int Running
    {
        get
        {
            lock (_lock)
            {
                return _running;
            }
        }
    }

    /// <summary>Every task received and not yet terminal-reported to the server: the pull's <c>holds</c>.</summary>
    public IReadOnlyList<TaskRef> Held
    {
        get
        {
            lock (_lock)
            {
                foreach (var done in _held.Values.Where(e => e.State == EntryState.Reporting && !outbox.IsPending(e.FinalEventId!)).ToList())
                {
                    _held.Remove(done.Ref);
                }
                return [.. _held.Keys];
            }
        }
    }

    /// <summary>Whether the device runs or has queued work (idle probes leave it alone).</summary>
    public bool IsDeviceBusy(string deviceId)
    {
        lock (_lock)
        {
            return _busyDevices.Contains(deviceId) || _queues.ContainsKey(deviceId);
        }
    }

    /// <summary>Queues new tasks (duplicates of held ones are ignored) and starts what may start.</summary>
    public async Task SubmitAsync(IEnumerable<DeviceTask> tasks, CancellationToken cancellationToken)
    {
        var refused = new List<CallbackEvent>();
        lock (_lock)
        {
            foreach (var task in tasks)
            {
                var entry = new Entry(task);
                if (_stopping || _held.ContainsKey(entry.Ref))
                {
                    continue;
                }
                _held[entry.Ref] = entry;
                if (health.IsQuarantined(task.DeviceId))
                {
                    // Held until the refusal is delivered, like any other terminal report.
                    var final = TaskEvents.Status(task, DeviceRunStatus.Failed, time.GetUtcNow(), FailureReasons.Quarantined,
                        $"device is quarantined: it failed {health.FailuresInARow(task.DeviceId)} probes in a row");
                    entry.State = EntryState.Reporting;
                    entry.FinalEventId = final.EventId;
                    refused.Add(final);
                    continue;
                }
                if (!_queues.TryGetValue(task.DeviceId, out var queue))
                {
                    _queues[task.DeviceId] = queue = new();
                    _rotation.Add(task.DeviceId);
                }
                queue.Enqueue(entry);
                _queued++;
            }
            PumpLocked();
        }
        foreach (var final in refused)
        {
            await outbox.EnqueueAsync(final, cancellationToken);
            LogRefusedQuarantined(logger, final.RunId!.Value, options.Value.Name, final.DeviceId!);
        }
    }

    /// <summary>The server cancelled a held task: drop it if queued (reporting <c>cancelled</c>), stop it if running.</summary>
    public async Task<bool> CancelAsync(TaskRef task, CancellationToken cancellationToken)
    {
        Entry? entry;
        EntryState state;
        lock (_lock)
        {
            if (!_held.TryGetValue(task, out entry))
            {
                return false;
            }
            state = entry.State;
            switch (state)
            {
                case EntryState.Queued:
                    RemoveQueuedLocked(entry);
                    _held.Remove(task);
                    break;
                case EntryState.Running:
                    entry.CancelledByServer = true;
                    break;
                default:
                    _held.Remove(task);
                    break;
            }
        }
        LogCancelled(logger, task.RunId, options.Value.Name, task.DeviceId, state.ToString());
        if (state == EntryState.Queued)
        {
            await outbox.EnqueueAsync(TaskEvents.Status(entry.Task, DeviceRunStatus.Cancelled, time.GetUtcNow(), FailureReasons.Cancelled, "cancelled before it started"), cancellationToken);
            SlotFreed.Set();
        }
        else if (state == EntryState.Running)
        {
            await entry.Cancel.CancelAsync();
        }
        return true;
    }

    /// <summary>
    /// After a restart, keeps holding the tasks whose terminal report is still in the outbox, so the
    /// server waits for that report instead of failing them as lost.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var restored = 0;
        lock (_lock)
        {
            foreach (var (task, eventId) in outbox.PendingTerminalReports())
            {
                if (_held.TryAdd(task, new Entry(task, eventId)))
                {
                    restored++;
                }
            }
        }
        if (restored > 0)
        {
            LogRestored(logger, options.Value.Name, restored);
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops taking work and takes back every task received but not yet started, so the caller can
    /// hand their leases back to the server. Idempotent: a second call returns nothing.
    /// </summary>
    public IReadOnlyList<TaskRef> TakeQueued()
    {
        lock (_lock)
        {
            _stopping = true;
            var queued = _held.Values.Where(e => e.State == EntryState.Queued).ToList();
            foreach (var entry in queued)
            {
                RemoveQueuedLocked(entry);
                _held.Remove(entry.Ref);
            }
            return [.. queued.Select(e => e.Ref)];
        }
    }

    /// <summary>
    /// Stops taking work, lets running tasks finish for up to <see cref="DevicesOptions.ShutdownDrainSec"/>,
    /// then stops the rest, which report themselves failed (<c>agent_shutdown</c>) through the outbox.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task[] running;
        lock (_lock)
        {
            _stopping = true;
            running = [.. _held.Values.Where(e => e.State == EntryState.Running).Select(e => e.Execution!)];
        }
        var drain = TimeSpan.FromSeconds(Math.Max(0, options.Value.Devices.ShutdownDrainSec));
        if (running.Length > 0 && drain > TimeSpan.Zero)
        {
            LogDraining(logger, options.Value.Name, running.Length, drain.TotalSeconds);
            try
            {
                await Task.WhenAll(running).WaitAsync(drain, time, cancellationToken);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                // Drain time over (or the host's own shutdown timeout): stop what is left.
            }
        }
        var left = running.Count(t => !t.IsCompleted);
        if (left > 0)
        {
            LogStopping(logger, options.Value.Name, left);
        }
        await _shutdown.CancelAsync();
        await Task.WhenAll(running).WaitAsync(cancellationToken);
    }

    public void Dispose() => _shutdown.Dispose();

    private void PumpLocked()
    {
        while (!_stopping && _running < MaxConcurrency && _rotation.Count > 0)
        {
            var found = -1;
            for (var i = 0; i < _rotation.Count; i++)
            {
                var index = (_cursor + i) % _rotation.Count;
                var device = _rotation[index];
                if (_busyDevices.Contains(device))
                {
                    continue;
                }
                var head = _queues[device].Peek().Task;
                var limit = head.RunConcurrency > 0 ? head.RunConcurrency : int.MaxValue;
                if (_runningPerRun.GetValueOrDefault(head.RunId) >= limit)
                {
                    continue;
                }
                found = index;
                break;
            }
            if (found < 0)
            {
                return;
            }
            var chosen = _rotation[found];
            var queue = _queues[chosen];
            var entry = queue.Dequeue();
            _queued--;
            if (queue.Count == 0)
            {
                _queues.Remove(chosen);
                _rotation.RemoveAt(found);
                _cursor = found; // The next device slid into this place: it is next in turn.
            }
            else
            {
                _cursor = found + 1;
            }
            _cursor = _rotation.Count == 0 ? 0 : _cursor % _rotation.Count;
            StartLocked(entry);
        }
    }

    private void StartLocked(Entry entry)
    {
        entry.State = EntryState.Running;
        _busyDevices.Add(entry.Task.DeviceId);
        _runningPerRun[entry.Task.RunId] = _runningPerRun.GetValueOrDefault(entry.Task.RunId) + 1;
        _running++;
        status.TaskStarted();
        entry.Execution = Task.Run(() => ExecuteAsync(entry));
    }

    private async Task ExecuteAsync(Entry entry)
    {
        string? finalEventId = null;
        try
        {
            finalEventId = await runner.RunAsync(entry.Task, entry.Cancel.Token, _shutdown.Token);
        }
        catch (Exception e)
        {
            LogRunnerCrashed(logger, entry.Task.RunId, options.Value.Name, entry.Task.DeviceId, e);
        }
        finally
        {
            lock (_lock)
            {
                _busyDevices.Remove(entry.Task.DeviceId);
                var left = _runningPerRun[entry.Task.RunId] - 1;
                if (left == 0)
                {
                    _runningPerRun.Remove(entry.Task.RunId);
                }
                else
                {
                    _runningPerRun[entry.Task.RunId] = left;
                }
                _running--;
                status.TaskEnded();
                if (finalEventId is null || entry.CancelledByServer)
                {
                    _held.Remove(entry.Ref);
                }
                else
                {
                    entry.State = EntryState.Reporting;
                    entry.FinalEventId = finalEventId;
                }
                PumpLocked();
            }
            SlotFreed.Set();
        }
    }

    private void RemoveQueuedLocked(Entry entry)
    {
        var device = entry.Task.DeviceId;
        var queue = _queues[device];
        var rest = queue.Where(e => e != entry).ToList();
        queue.Clear();
        rest.ForEach(queue.Enqueue);
        _queued--;
        if (queue.Count == 0)
        {
            var index = _rotation.IndexOf(device);
            _rotation.RemoveAt(index);
            _queues.Remove(device);
            if (index < _cursor)
            {
                _cursor--;
            }
            _cursor = _rotation.Count == 0 ? 0 : _cursor % _rotation.Count;
        }
    }

    private enum EntryState
    {
        Queued,
        Running,
        /// <summary>Ended; its terminal status waits in the outbox.</summary>
        Reporting,
    }

    private sealed class Entry
    {
        private readonly DeviceTask? _task;

        public Entry(DeviceTask task)
        {
            _task = task;
            Ref = task.Ref();
        }

        /// <summary>A task that ended before a restart and whose terminal report is still in the outbox.</summary>
        public Entry(TaskRef reference, string finalEventId)
        {
            Ref = reference;
            State = EntryState.Reporting;
            FinalEventId = finalEventId;
        }

        public DeviceTask Task => _task ?? throw new InvalidOperationException($"task {Ref} was restored from the outbox and has no definition");
        public TaskRef Ref { get; }
        public EntryState State { get; set; }
        public CancellationTokenSource Cancel { get; } = new();
        public bool CancelledByServer { get; set; }
        public Task? Execution { get; set; }
        public string? FinalEventId { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Task refused: the device is quarantined")]
    private static partial void LogRefusedQuarantined(ILogger logger, Guid runId, string nodeId, string deviceId);

    [LoggerMessage(Level = LogLevel.Information, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Task cancelled by the server while {State}")]
    private static partial void LogCancelled(ILogger logger, Guid runId, string nodeId, string deviceId, string state);

    [LoggerMessage(Level = LogLevel.Error, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Task runner failed")]
    private static partial void LogRunnerCrashed(ILogger logger, Guid runId, string nodeId, string deviceId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "[node_id={NodeId}] Holding {Count} finished task(s) whose final report is still in the outbox")]
    private static partial void LogRestored(ILogger logger, string nodeId, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "[node_id={NodeId}] Stopping: waiting up to {DrainSec}s for {Running} running task(s) to finish")]
    private static partial void LogDraining(ILogger logger, string nodeId, int running, double drainSec);

    [LoggerMessage(Level = LogLevel.Information, Message = "[node_id={NodeId}] Stopping: {Running} running task(s) did not finish in time and are stopped")]
    private static partial void LogStopping(ILogger logger, string nodeId, int running);
}
