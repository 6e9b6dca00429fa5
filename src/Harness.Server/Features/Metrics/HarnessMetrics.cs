using System.Diagnostics.Metrics;

namespace Harness.Server.Features.Metrics;

/// <summary>
/// The server's own instruments. They are made through <see cref="IMeterFactory"/>, so each host (and
/// each test server in one process) has its own meter, and an OTLP exporter can pick them up by name.
/// </summary>
public sealed class HarnessMetrics
{
    public const string MeterName = "Harness.Server";

    /// <summary>Latency buckets in seconds, shared by every histogram this server exposes.</summary>
    public static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

    private readonly Counter<long> _runsCreated;
    private readonly Counter<long> _tasksLeased;
    private readonly Histogram<double> _dispatchLatency;
    private readonly Counter<long> _callbackEvents;
    private readonly Counter<long> _heartbeats;
    private readonly Counter<long> _leasesReleased;
    private readonly Counter<long> _callbackGroups;
    private readonly Counter<long> _callbacksGrouped;

    public HarnessMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _runsCreated = meter.CreateCounter<long>("harness.runs.created", description: "Runs created.");
        _tasksLeased = meter.CreateCounter<long>("harness.tasks.leased", description: "Device tasks leased to agents.");
        _dispatchLatency = meter.CreateHistogram<double>("harness.dispatch.latency", unit: "s",
            description: "Time a device task waited in the queue before an agent leased it.");
        _callbackEvents = meter.CreateCounter<long>("harness.callback.events", description: "Agent callback events received, by type.");
        _heartbeats = meter.CreateCounter<long>("harness.heartbeats", description: "Agent heartbeats received.");
        _leasesReleased = meter.CreateCounter<long>("harness.leases.released", description: "Unstarted device tasks handed back by agents that were shutting down.");
        _callbackGroups = meter.CreateCounter<long>("harness.callback.groups", description: "Transactions that committed a group of callbacks.");
        _callbacksGrouped = meter.CreateCounter<long>("harness.callbacks.grouped", description: "Callbacks answered by a group's commit (divided by the groups: the mean group size).");
    }

    public void RunCreated() => _runsCreated.Add(1);

    public void TaskLeased(TimeSpan queued)
    {
        _tasksLeased.Add(1);
        _dispatchLatency.Record(Math.Max(0, queued.TotalSeconds));
    }

    public void CallbackEvent(string type) => _callbackEvents.Add(1, new KeyValuePair<string, object?>("type", type));

    public void Heartbeat() => _heartbeats.Add(1);

    public void LeasesReleased(int count) => _leasesReleased.Add(count);

    public void CallbackGroup(int callbacks)
    {
        _callbackGroups.Add(1);
        _callbacksGrouped.Add(callbacks);
    }
}
