namespace Harness.Server.Data.Entities;

/// <summary>One executed step on one device.</summary>
public sealed class RunStepEntity
{
    public long Id { get; set; }
    public Guid RunId { get; set; }
    public required string DeviceId { get; set; }
    public required string StepId { get; set; }
    public required string Type { get; set; }
    public int Attempt { get; set; }
    public required string Status { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public long? DurationMs { get; set; }
    public string? Output { get; set; }
    public string? Error { get; set; }
}
