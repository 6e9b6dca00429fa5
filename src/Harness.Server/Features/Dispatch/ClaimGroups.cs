using Harness.Contracts.Dispatch;
using Harness.Server.Data;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Dispatch;

/// <summary>
/// Claims, committed in groups (<see cref="GroupCommitter{TIn, TOut}"/>): the claims of every pull waiting when
/// a writer begins go into one transaction (<see cref="Dispatcher.ClaimGroupAsync"/>), which leases each agent
/// its tasks as its own claim would. <c>Harness:Dispatch:ClaimWriters</c> writers claim side by side (SQLite:
/// at most one); 0 turns grouping off. An agent with a pending scan claims on its own.
/// </summary>
public sealed class ClaimGroups(IServiceScopeFactory scopes, IOptions<HarnessServerOptions> options, ILogger<ClaimGroups> logger)
    : GroupCommitter<(Guid AgentId, int FreeSlots), List<DeviceTask>>(scopes, options.Value.Database, logger)
{
    protected override int ConfiguredWriters => options.Value.Dispatch.ClaimWriters;

    protected override async Task<List<DeviceTask>?[]> ApplyAsync(
        IServiceProvider services, IReadOnlyList<(Guid AgentId, int FreeSlots)> group, CancellationToken cancellationToken) =>
        await services.GetRequiredService<Dispatcher>().ClaimGroupAsync(group, cancellationToken);
}
