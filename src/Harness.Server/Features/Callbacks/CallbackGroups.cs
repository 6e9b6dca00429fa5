using Harness.Contracts.Dispatch;
using Harness.Server.Data;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Callbacks;

/// <summary>
/// Callbacks, committed in groups (<see cref="GroupCommitter{TIn, TOut}"/>): all the callbacks waiting when a
/// writer begins (up to 64 callbacks or 2,000 events) go into one transaction
/// (<see cref="CallbackHandler.ApplyGroupAsync"/>): one batch locks their device states, one statement records
/// their events, one save and one commit serve them all. <c>Harness:Dispatch:CallbackWriters</c> writers apply
/// groups side by side (SQLite: at most one); 0 turns grouping off. Callbacks with a scan's result are always
/// applied on their own.
/// </summary>
public sealed class CallbackGroups(
    IServiceScopeFactory scopes, IOptions<HarnessServerOptions> options, Metrics.HarnessMetrics metrics, ILogger<CallbackGroups> logger)
    : GroupCommitter<(Guid AgentId, IReadOnlyList<CallbackEvent> Events), IResult>(scopes, options.Value.Database, logger)
{
    /// <summary>Whether a callback of these events may share a group: device states and steps only.</summary>
    public static bool Groupable(IReadOnlyList<CallbackEvent> events) =>
        events.All(e => e.Type is CallbackTypes.DeviceStatus or CallbackTypes.Step);

    protected override int MaxWeight => 2_000;

    protected override int Weight((Guid AgentId, IReadOnlyList<CallbackEvent> Events) input) => input.Events.Count;

    protected override int ConfiguredWriters => options.Value.Dispatch.CallbackWriters;

    protected override async Task<IResult?[]> ApplyAsync(
        IServiceProvider services, IReadOnlyList<(Guid AgentId, IReadOnlyList<CallbackEvent> Events)> group, CancellationToken cancellationToken) =>
        await services.GetRequiredService<CallbackHandler>().ApplyGroupAsync(group, cancellationToken);

    protected override void Committed(int members) => metrics.CallbackGroup(members);
}
