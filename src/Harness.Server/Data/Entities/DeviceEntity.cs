namespace Harness.Server.Data.Entities;

public sealed class DeviceEntity
{
    /// <summary>onlySerial: the immutable key used by the database and the queues.</summary>
    public required string DeviceId { get; set; }
    /// <summary>The serial the vendor, adb or the simulator addresses the device by.</summary>
    public string? RuntimeHandle { get; set; }
    /// <summary>The operator-facing position; assigned on first registration (see docs/concepts.md).</summary>
    public int? IndexNo { get; set; }
    public string? Label { get; set; }
    public Guid AgentId { get; set; }
    /// <summary>Name of the owning agent (the seeds' node_id), kept with the row for listing and paths.</summary>
    public required string NodeId { get; set; }
    public string? Model { get; set; }
    public DateTimeOffset? LastSeen { get; set; }
    /// <summary>Last state the agent reported (ready, busy, offline …).</summary>
    public string? State { get; set; }
    public string? LastErrorMessage { get; set; }
    public DateTimeOffset? QuarantinedAt { get; set; }
    public string Labels { get; set; } = "{}";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
