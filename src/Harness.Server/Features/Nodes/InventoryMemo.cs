using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Harness.Contracts.Nodes;
using Harness.Server.Features.Devices;

namespace Harness.Server.Features.Nodes;

/// <summary>
/// Each agent's last inventory that changed nothing (every device as stored, only <c>last_seen</c> to keep
/// fresh), so that a heartbeat repeating it skips reading the agent's devices. With heartbeats every 5 s
/// (as in <c>harness dev</c>), every other heartbeat of a steady agent reads and writes no device row.
/// </summary>
/// <remarks>
/// A repeat is trusted until the first of its devices is due for a <c>last_seen</c> rewrite
/// (<see cref="HeartbeatHandler.Due"/>), and only while no device changed through this server since it
/// was remembered (<see cref="FleetSnapshot.Changes"/>). A device changed through another replica (say,
/// forgotten there) is seen by the next heartbeat that reads, within a third of the online window.
/// </remarks>
public sealed class InventoryMemo(FleetSnapshot fleet)
{
    private readonly ConcurrentDictionary<Guid, Entry> _entries = new();

    private sealed record Entry(UInt128 Fingerprint, long FleetChanges, DateTimeOffset TrustedUntil);

    /// <summary>Whether <paramref name="fingerprint"/> repeats the agent's last steady inventory, still to be trusted at <paramref name="now"/>.</summary>
    public bool Repeats(Guid agentId, UInt128 fingerprint, DateTimeOffset now) =>
        _entries.TryGetValue(agentId, out var entry)
        && entry.Fingerprint == fingerprint && entry.FleetChanges == fleet.Changes && now < entry.TrustedUntil;

    /// <summary>
    /// Remembers an inventory once its heartbeat committed, or forgets the agent's when it was not steady
    /// (<paramref name="trustedUntil"/> null). <paramref name="fleetChanges"/> is the <see cref="FleetSnapshot.Changes"/>
    /// read before the devices were: a change during the heartbeat voids it.
    /// </summary>
    public void Remember(Guid agentId, UInt128 fingerprint, long fleetChanges, DateTimeOffset? trustedUntil)
    {
        if (trustedUntil is { } until)
        {
            _entries[agentId] = new Entry(fingerprint, fleetChanges, until);
        }
        else
        {
            Forget(agentId);
        }
    }

    public void Forget(Guid agentId) => _entries.TryRemove(agentId, out _);

    /// <summary>A 128-bit digest of everything a heartbeat says of its devices, in order.</summary>
    public static UInt128 Fingerprint(IReadOnlyList<DeviceReport> reported)
    {
        var hash = new XxHash128();
        Span<byte> number = stackalloc byte[4];
        foreach (var d in reported)
        {
            Add(hash, d.DeviceId);
            Add(hash, d.RuntimeHandle);
            Add(hash, d.Model);
            Add(hash, d.Label);
            Add(hash, d.Error);
            BinaryPrimitives.WriteInt32LittleEndian(number, (d.State is { } state ? (int)state : -1) * 4 + (d.Quarantined switch { null => 0, false => 1, true => 2 }));
            hash.Append(number);
        }
        return hash.GetCurrentHashAsUInt128();
    }

    /// <summary>Appends a length-prefixed string (-1 for null), so that field boundaries cannot shift; its UTF-16 as it is, no copy.</summary>
    private static void Add(XxHash128 hash, string? text)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, text?.Length ?? -1);
        hash.Append(length);
        hash.Append(MemoryMarshal.AsBytes(text.AsSpan()));
    }
}
