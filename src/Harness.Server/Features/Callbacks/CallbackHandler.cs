using Harness.Contracts.Dispatch;
using Harness.Contracts.Runs;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Dispatch;
using Harness.Server.Features.Runs;
using Harness.Server.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Callbacks;

/// <summary>
/// Applies a batch of agent events in one transaction: each event once (by event_id), never moving a
/// device backwards (a late <c>running</c> never overrides <c>succeeded</c>; an older attempt's events
/// are ignored). A batch with an event the agent may not send changes nothing.
/// </summary>
public sealed partial class CallbackHandler(
    HarnessDbContext db, TimeProvider time, IOptions<HarnessServerOptions> options, DispatchSignal signal,
    Nodes.HeartbeatHandler inventory, CallbackGroups groups, ILogger<CallbackHandler> logger)
{
    /// <summary>
    /// The steps of this unit of work's devices, read at its start and added to as steps are first reported.
    /// Looked up per step event: <c>DbSet.Local</c> would detect changes over every tracked row each time,
    /// which in a group of 64 callbacks costs more than the rest of the group's work.
    /// </summary>
    private Dictionary<(Guid RunId, string DeviceId, string StepId, int Attempt), RunStepEntity> steps = [];

    public async Task<IResult> HandleAsync(Guid agentId, IReadOnlyList<CallbackEvent> events, CancellationToken cancellationToken)
    {
        using var activity = Metrics.ServerTelemetry.Source.StartActivity("callbacks.apply");
        activity?.SetTag("harness.agent_id", agentId.ToString());
        activity?.SetTag("harness.events", events.Count);
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["agent_id"] = agentId });
        // Concurrent callbacks share a transaction (CallbackGroups); one the group could not apply is applied here.
        if (CallbackGroups.Groupable(events) && await groups.SendAsync((agentId, events)) is { } grouped)
        {
            return grouped;
        }
        return await ConflictRetry.RunAsync(db, () => ApplyAsync(agentId, events, cancellationToken),
            (attempt, e) => LogRetry(logger, agentId, attempt, e), (attempt, e) => LogGaveUp(logger, agentId, attempt, e),
            "events", "the batch kept conflicting with concurrent writes; send it again");
    }

    private async Task<IResult> ApplyAsync(Guid agentId, IReadOnlyList<CallbackEvent> events, CancellationToken cancellationToken)
    {
        // Shared: callbacks run alongside each other and alongside claims (each locks the rows it changes),
        // never alongside the sweeper, a cancel or a release, which hold the lock exclusively. The events are
        // recorded after the rows are locked: a concurrent delivery of the same events has committed by then
        // (or, for a scan's events, which lock no row, is waited for). A refused batch is rolled back with
        // its records, as is anything else this unit of work fails on.
        var now = time.GetUtcNow();
        var (locked, fresh) = await db.BeginCallbackAsync(Keys(events), Records(agentId, events, now), WithSteps(events), cancellationToken);
        IndexSteps();
        var states = locked.ToDictionary(s => (s.RunId, s.DeviceId));
        var scanIds = events.Where(e => e.ScanId is not null).Select(e => e.ScanId!.Value).Distinct().ToList();
        // Round trips under the dispatch lock are what callbacks queue behind: skip the reads a batch does not need.
        var scans = scanIds.Count == 0 ? new Dictionary<Guid, ScanJobEntity>() : await db.ScanJobs.Where(s => scanIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, cancellationToken);
        if (await RefuseAsync(agentId, events, states, scans, cancellationToken) is { } refused)
        {
            return refused;
        }
        var freed = new HashSet<Guid>();
        var results = await ApplyEventsAsync(agentId, events, states, scans, fresh, now, freed, cancellationToken);
        var ended = await RunProgress.SaveChangesAsync(db, now, cancellationToken);
        await db.Database.CurrentTransaction!.CommitAsync(cancellationToken);
        inventory.Committed();
        NotifyFreed([agentId], freed, ended);
        return Answer(results);
    }

    /// <summary>
    /// Applies the callbacks of many agents in one transaction (<see cref="CallbackGroups"/>), each as
    /// <see cref="HandleAsync"/> would on its own, in order: one batch locks every device state they name and
    /// reads their steps, each is checked, the events of those not refused are recorded in one statement, and
    /// one save and one commit serve them all. A refused callback changes nothing and records nothing, as on its
    /// own; the others are not refused with it. Every callback here is <see cref="CallbackGroups.Groupable"/>.
    /// Returns each callback's answer; throws, having changed nothing, when the transaction fails.
    /// </summary>
    public async Task<IResult[]> ApplyGroupAsync(IReadOnlyList<(Guid AgentId, IReadOnlyList<CallbackEvent> Events)> members, CancellationToken cancellationToken)
    {
        try
        {
            var now = time.GetUtcNow();
            var all = members.SelectMany(m => m.Events).ToList();
            var (locked, _) = await db.BeginCallbackAsync(Keys(all), [], WithSteps(all), cancellationToken);
            IndexSteps();
            var states = locked.ToDictionary(s => (s.RunId, s.DeviceId));
            var noScans = new Dictionary<Guid, ScanJobEntity>();
            var answers = new IResult?[members.Count];
            for (var m = 0; m < members.Count; m++)
            {
                answers[m] = await RefuseAsync(members[m].AgentId, members[m].Events, states, noScans, cancellationToken);
            }
            var accepted = Enumerable.Range(0, members.Count).Where(m => answers[m] is null).ToList();
            var fresh = await db.RecordCallbackEventsAsync(accepted.SelectMany(m => Records(members[m].AgentId, members[m].Events, now)).ToList(), cancellationToken);
            var freed = new HashSet<Guid>();
            var freeing = new HashSet<Guid>();
            var results = new List<CallbackResult>[members.Count];
            foreach (var m in accepted)
            {
                var freedHere = new HashSet<Guid>();
                results[m] = await ApplyEventsAsync(members[m].AgentId, members[m].Events, states, noScans, fresh, now, freedHere, cancellationToken);
                if (freedHere.Count > 0)
                {
                    freeing.Add(members[m].AgentId);
                    freed.UnionWith(freedHere);
                }
            }
            var ended = await RunProgress.SaveChangesAsync(db, now, cancellationToken);
            await db.Database.CurrentTransaction!.CommitAsync(cancellationToken);
            inventory.Committed();
            NotifyFreed(freeing.Count > 0 ? freeing : accepted.Select(m => members[m].AgentId).ToHashSet(), freed, ended);
            foreach (var m in accepted)
            {
                answers[m] = Answer(results[m]);
            }
            return answers!;
        }
        finally
        {
            if (db.Database.CurrentTransaction is { } open)
            {
                await open.DisposeAsync(); // rolled back: nothing the group did stays
            }
        }
    }

    private void IndexSteps() =>
        steps = TrackedRows.Tracked<RunStepEntity>(db).Select(e => e.Entity).ToDictionary(s => (s.RunId, s.DeviceId, s.StepId, s.Attempt));

    private static HashSet<(Guid, string)> Keys(IEnumerable<CallbackEvent> events) =>
        events.Where(e => e.RunId is not null && e.DeviceId is not null).Select(e => (e.RunId!.Value, e.DeviceId!)).ToHashSet();

    private static bool WithSteps(IEnumerable<CallbackEvent> events) => events.Any(e => e.Type == CallbackTypes.Step);

    private static List<CallbackEventEntity> Records(Guid agentId, IEnumerable<CallbackEvent> events, DateTimeOffset now) =>
        events.Select(e => new CallbackEventEntity
        {
            EventId = e.EventId!, AgentId = agentId, Type = e.Type!, RunId = e.RunId, DeviceId = e.DeviceId, ReceivedAt = now,
        }).ToList();

    /// <summary>Every reference of the batch, checked before anything changes, so that a refused batch leaves no trace.</summary>
    private async Task<IResult?> RefuseAsync(
        Guid agentId, IReadOnlyList<CallbackEvent> events, Dictionary<(Guid, string), RunDeviceStateEntity> states,
        Dictionary<Guid, ScanJobEntity> scans, CancellationToken cancellationToken)
    {
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (e.Type is CallbackTypes.DeviceStatus or CallbackTypes.Step)
            {
                if (!states.TryGetValue((e.RunId!.Value, e.DeviceId!), out var state))
                {
                    // Only a refused batch needs to know whether the run exists at all.
                    var runKnown = await db.Runs.AsNoTracking().AnyAsync(r => r.Id == e.RunId!.Value, cancellationToken);
                    return runKnown
                        ? Problems.Field(StatusCodes.Status400BadRequest, "Unknown device", $"events[{i}].device_id", $"device '{e.DeviceId}' is not part of run {e.RunId}")
                        : Problems.Field(StatusCodes.Status400BadRequest, "Unknown run", $"events[{i}].run_id", $"no run '{e.RunId}'");
                }
                if (state.AgentId != agentId)
                {
                    return Problems.Forbidden($"events[{i}].device_id", $"device '{e.DeviceId}' is driven by node '{state.NodeId}'; an agent may report only its own devices");
                }
            }
            else if (e.Type == CallbackTypes.ScanResult)
            {
                if (!scans.TryGetValue(e.ScanId!.Value, out var scan))
                {
                    return Problems.Field(StatusCodes.Status400BadRequest, "Unknown scan", $"events[{i}].scan_id", $"no scan '{e.ScanId}'");
                }
                if (scan.AgentId != agentId)
                {
                    return Problems.Forbidden($"events[{i}].scan_id", "this scan was ordered for another node");
                }
            }
        }
        return null;
    }

    /// <summary>Applies each event whose id is in <paramref name="fresh"/> (taking it out), and answers each of the batch.</summary>
    private async Task<List<CallbackResult>> ApplyEventsAsync(
        Guid agentId, IReadOnlyList<CallbackEvent> events, Dictionary<(Guid, string), RunDeviceStateEntity> states, Dictionary<Guid, ScanJobEntity> scans,
        HashSet<string> fresh, DateTimeOffset now, HashSet<Guid> freed, CancellationToken cancellationToken)
    {
        var results = new List<CallbackResult>(events.Count);
        var leaseUntil = now.AddSeconds(options.Value.Dispatch.LeaseSec);
        foreach (var e in events)
        {
            if (!fresh.Remove(e.EventId!))
            {
                results.Add(new CallbackResult(e.EventId!, CallbackOutcome.Duplicate));
                continue;
            }
            string? ignored = e.Type switch
            {
                CallbackTypes.DeviceStatus => ApplyStatus(states[(e.RunId!.Value, e.DeviceId!)], e, agentId, now, leaseUntil, freed),
                CallbackTypes.Step => ApplyStep(states[(e.RunId!.Value, e.DeviceId!)], e, agentId, now, leaseUntil),
                _ => await ApplyScanAsync(scans[e.ScanId!.Value], e, agentId, now, cancellationToken),
            };
            results.Add(new CallbackResult(e.EventId!, ignored is null ? CallbackOutcome.Accepted : CallbackOutcome.Ignored, ignored));
        }
        return results;
    }

    /// <summary>
    /// After the commit: a device of these agents is free, so its next queued task may go. A run slot is free
    /// too, which only matters to other agents when the run's concurrency is below its device count.
    /// </summary>
    private void NotifyFreed(IReadOnlyCollection<Guid> agents, HashSet<Guid> freed, List<RunEntity> ended)
    {
        if (freed.Count == 0 && ended.Count == 0)
        {
            return;
        }
        var runs = db.Runs.Local.Where(r => freed.Contains(r.Id)).ToList();
        if (runs.Count < freed.Count || runs.Any(r => r.Concurrency < r.TotalDevices))
        {
            signal.Notify();
        }
        else
        {
            signal.Notify(agents);
        }
    }

    private static IResult Answer(List<CallbackResult> results) => TypedResults.Ok(new CallbackResponse(
        results.Count(r => r.Outcome == CallbackOutcome.Accepted),
        results.Count(r => r.Outcome == CallbackOutcome.Duplicate),
        results.Count(r => r.Outcome == CallbackOutcome.Ignored),
        results));

    private static int Rank(string status) => status switch
    {
        DeviceRunStatus.Queued or DeviceRunStatus.Dispatched => 0,
        DeviceRunStatus.Preflight => 1,
        DeviceRunStatus.Running or DeviceRunStatus.Waiting => 2,
        _ => 3,
    };

    private string? ApplyStatus(RunDeviceStateEntity state, CallbackEvent e, Guid agentId, DateTimeOffset now, DateTimeOffset leaseUntil, HashSet<Guid> freed)
    {
        if (e.Attempt != state.Attempt)
        {
            return e.Attempt < state.Attempt ? $"attempt {e.Attempt} was superseded by attempt {state.Attempt}" : $"attempt {e.Attempt} was never dispatched";
        }
        if (DeviceRunStatus.IsTerminal(state.Status))
        {
            return $"the device already ended ({state.Status})";
        }
        if (Rank(e.Status!) < Rank(state.Status))
        {
            return $"stale: the device is already {state.Status}";
        }
        var at = e.At ?? now;
        state.Status = e.Status!;
        state.UpdatedAt = now;
        state.StartedAt ??= at;
        if (DeviceRunStatus.IsTerminal(e.Status!))
        {
            state.FinishedAt = at;
            state.FailureReason = e.Status == DeviceRunStatus.Succeeded ? null
                : e.FailureReason ?? (e.Status == DeviceRunStatus.TimedOut ? FailureReasons.TaskTimeout : FailureReasons.StepFailed);
            state.LeaseExpiresAt = null;
            freed.Add(state.RunId);
            using (logger.BeginScope(new Dictionary<string, object?> { ["run_id"] = state.RunId, ["node_id"] = state.NodeId, ["device_id"] = state.DeviceId }))
            {
                LogEnded(logger, state.RunId, state.NodeId, state.DeviceId, e.Status!, state.FailureReason ?? "");
            }
        }
        else
        {
            // Work in progress renews the lease as a pull would.
            state.LeaseOwner = agentId.ToString();
            state.LeaseExpiresAt = leaseUntil;
        }
        return null;
    }

    private string? ApplyStep(RunDeviceStateEntity state, CallbackEvent e, Guid agentId, DateTimeOffset now, DateTimeOffset leaseUntil)
    {
        if (e.Attempt != state.Attempt)
        {
            return $"attempt {e.Attempt} is not the device's current attempt {state.Attempt}";
        }
        var report = e.Step!;
        var key = (state.RunId, state.DeviceId, report.StepId!, state.Attempt);
        if (!steps.TryGetValue(key, out var row))
        {
            row = new RunStepEntity { RunId = state.RunId, DeviceId = state.DeviceId, StepId = report.StepId!, Type = report.Type!, Attempt = state.Attempt, Status = report.Status! };
            db.RunSteps.Add(row);
            steps.Add(key, row);
        }
        else if (report.Status == StepStatus.Running && row.Status != StepStatus.Running)
        {
            return $"stale: step '{report.StepId}' already {row.Status}";
        }
        row.Type = report.Type!;
        row.Status = report.Status!;
        row.StartedAt = row.StartedAt is { } started && report.StartedAt is { } s2 && s2 > started ? started : report.StartedAt ?? row.StartedAt ?? e.At ?? now;
        row.FinishedAt = report.FinishedAt ?? (report.Status == StepStatus.Running ? null : e.At ?? now);
        row.DurationMs = report.DurationMs ?? (long?)(row.FinishedAt - row.StartedAt)?.TotalMilliseconds;
        row.Output = Truncate(report.Output, CallbackValidation.MaxOutput) ?? row.Output;
        row.Error = Truncate(report.Error, Limits.MessageLength) ?? row.Error;
        if (DeviceRunStatus.IsActive(state.Status))
        {
            state.LeaseOwner = agentId.ToString();
            state.LeaseExpiresAt = leaseUntil;
        }
        return null;
    }

    private async Task<string?> ApplyScanAsync(ScanJobEntity scan, CallbackEvent e, Guid agentId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (scan.Status is Contracts.Dispatch.ScanStatus.Succeeded or Contracts.Dispatch.ScanStatus.Failed)
        {
            return $"the scan already ended ({scan.Status})";
        }
        var agent = await db.Agents.SingleAsync(a => a.Id == agentId, cancellationToken);
        var added = new List<string>();
        var missing = new List<string>();
        if (await inventory.ApplyInventoryAsync(agent, e.Devices!, now, cancellationToken, added, missing) is not null)
        {
            scan.Status = Contracts.Dispatch.ScanStatus.Failed;
            scan.LastErrorMessage = "a scanned device belongs to another node";
        }
        else
        {
            scan.Status = Contracts.Dispatch.ScanStatus.Succeeded;
            scan.Result = Scans.ScanResults.Serialize(e.Devices!.Count, added, missing, e.Devices!.Select(d => d.DeviceId!).ToList());
        }
        scan.FinishedAt = e.At ?? now;
        await Scans.ScanJobsMirror.SyncAsync(db, scan, cancellationToken);
        return null;
    }

    private static string? Truncate(string? text, int max) => text is null || text.Length <= max ? text : text[..max];

    [LoggerMessage(Level = LogLevel.Information, Message = "[run_id={RunId} node_id={NodeId} device_id={DeviceId}] Task ended {Status} {Reason}")]
    private static partial void LogEnded(ILogger logger, Guid runId, string? nodeId, string deviceId, string status, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Callback batch of agent {AgentId} conflicted (attempt {Attempt}); retrying")]
    private static partial void LogRetry(ILogger logger, Guid agentId, int attempt, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Callback batch of agent {AgentId} still conflicted after {Attempts} attempts; answered 503")]
    private static partial void LogGaveUp(ILogger logger, Guid agentId, int attempts, Exception exception);
}

public static class CallbackOutcome
{
    public const string Accepted = "accepted";
    public const string Duplicate = "duplicate";
    public const string Ignored = "ignored";
}
