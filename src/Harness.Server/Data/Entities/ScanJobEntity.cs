namespace Harness.Server.Data.Entities;

/// <summary>A requested device scan on one node, and what it found.</summary>
public sealed class ScanJobEntity
{
    public Guid Id { get; set; }
    public Guid AgentId { get; set; }
    public required string Status { get; set; }
    public string? RequestedBy { get; set; }
    /// <summary>JSON summary of the devices found, added and missing.</summary>
    public string? Result { get; set; }
    public string? LastErrorMessage { get; set; }
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}
