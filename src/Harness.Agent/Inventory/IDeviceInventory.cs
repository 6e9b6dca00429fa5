using Harness.Contracts.Nodes;

namespace Harness.Agent.Inventory;

/// <summary>
/// The devices this agent drives, as reported in every heartbeat. The <c>devices</c> runtime
/// provides one; an agent without that runtime reports none (null: "no inventory", not "no devices").
/// </summary>
public interface IDeviceInventory
{
    ValueTask<IReadOnlyList<DeviceReport>?> SnapshotAsync(CancellationToken cancellationToken);

    /// <summary>Whether the vendor connection answers (gate 3 of DESIGN.md §4); null when not applicable.</summary>
    bool? VendorConnectionOk { get; }
}

/// <summary>For agents that run no <c>devices</c> runtime (Docker hosts, cluster agents, sandboxes).</summary>
public sealed class NoDeviceInventory : IDeviceInventory
{
    public ValueTask<IReadOnlyList<DeviceReport>?> SnapshotAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IReadOnlyList<DeviceReport>?>(null);

    public bool? VendorConnectionOk => null;
}
