using System.Collections.Concurrent;
using System.Threading.Channels;
using Harness.Agent.Listener;
using Harness.Contracts.Dispatch;

namespace Harness.Agent.Tests.Fakes;

/// <summary>An in-memory outbox for tests of what is reported (the file outbox has its own tests).</summary>
internal sealed class RecordingOutbox : IOutbox
{
    private readonly Channel<CallbackEvent> _events = Channel.CreateUnbounded<CallbackEvent>();

    public ConcurrentQueue<CallbackEvent> Events { get; } = new();

    public ConcurrentQueue<OutboxArtifact> Artifacts { get; } = new();

    /// <summary>Event ids the test says are not delivered yet.</summary>
    public ConcurrentDictionary<string, bool> Undelivered { get; } = new();

    public bool HoldEverything { get; set; }

    public int PendingCount => 0;

    public List<(TaskRef Task, string EventId)> Restored { get; } = [];

    public IReadOnlyList<(TaskRef Task, string EventId)> PendingTerminalReports() => Restored;

    public bool IsPending(string eventId) => HoldEverything || Undelivered.ContainsKey(eventId);

    public Task EnqueueAsync(CallbackEvent callback, CancellationToken cancellationToken)
    {
        Events.Enqueue(callback);
        _events.Writer.TryWrite(callback);
        return Task.CompletedTask;
    }

    public Task EnqueueArtifactAsync(OutboxArtifact artifact, CancellationToken cancellationToken)
    {
        Artifacts.Enqueue(artifact);
        return Task.CompletedTask;
    }

    /// <summary>Waits (real time, bounded) for the next event matching <paramref name="match"/>.</summary>
    public async Task<CallbackEvent> NextAsync(Func<CallbackEvent, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var e = await _events.Reader.ReadAsync(timeout.Token);
            if (match(e))
            {
                return e;
            }
        }
    }

    public IReadOnlyList<string> Statuses(string deviceId) =>
        [.. Events.Where(e => e.Type == CallbackTypes.DeviceStatus && e.DeviceId == deviceId).Select(e => e.Status!)];

    public IReadOnlyList<StepReport> Steps(string deviceId) =>
        [.. Events.Where(e => e.Type == CallbackTypes.Step && e.DeviceId == deviceId).Select(e => e.Step!)];
}
