namespace Harness.Server.Data.Entities;

/// <summary>Seed 000's upserted heartbeat row: one per worker, the time it last spoke.</summary>
public sealed class WorkerHeartbeatEntity
{
    public required string WorkerId { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
