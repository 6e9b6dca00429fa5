namespace Harness.Server.Data.Entities;

/// <summary>The idempotency record: an accepted callback's event_id, stored once.</summary>
public sealed class CallbackEventEntity
{
    public required string EventId { get; set; }
    public Guid AgentId { get; set; }
    public required string Type { get; set; }
    public Guid? RunId { get; set; }
    public string? DeviceId { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
}
