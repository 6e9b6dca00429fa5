namespace Harness.Server.Data.Entities;

public sealed class ArtifactEntity
{
    public Guid Id { get; set; }
    /// <summary>screenshot, log, archive …</summary>
    public required string Kind { get; set; }
    public string? ContentType { get; set; }
    public long Size { get; set; }
    public required string Sha256 { get; set; }
    /// <summary>Path in the artifact store: <c>{subject}/{node_id}/{device_id}/{run_id}/{timestamp}.png</c> for screenshots.</summary>
    public required string StoragePath { get; set; }
    public Guid? RunId { get; set; }
    public string? DeviceId { get; set; }
    public string? StepId { get; set; }
    public Guid? JobId { get; set; }
    /// <summary>The upload's event_id: a retried upload finds its artifact instead of storing it twice.</summary>
    public string? EventId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
