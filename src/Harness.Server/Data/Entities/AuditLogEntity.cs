namespace Harness.Server.Data.Entities;

public sealed class AuditLogEntity
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    /// <summary>Who acted: <c>token:admin</c>, <c>agent:PC-01</c>, <c>system</c>.</summary>
    public required string Actor { get; set; }
    public required string Action { get; set; }
    public string? Subject { get; set; }
    public string? Details { get; set; }
}
