namespace Harness.Server.Data.Entities;

/// <summary>One line of a job's output; the agent numbers lines, so a retried batch inserts nothing twice.</summary>
public sealed class JobLogEntity
{
    public Guid JobId { get; set; }
    public long Seq { get; set; }
    public required string Stream { get; set; }
    public required string Text { get; set; }
    public DateTimeOffset At { get; set; }
}
