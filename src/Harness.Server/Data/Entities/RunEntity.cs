namespace Harness.Server.Data.Entities;

public sealed class RunEntity
{
    public Guid Id { get; set; }
    public Guid? WorkflowId { get; set; }
    public int? WorkflowVersion { get; set; }
    public Guid? PlaybookId { get; set; }
    /// <summary>The seed a playbook was compiled with, so the run can be reproduced.</summary>
    public long? Seed { get; set; }
    /// <summary>JSON: all / node_ids / device_ids / index_range / labels.</summary>
    public required string Target { get; set; }
    public int Concurrency { get; set; }
    public string Vars { get; set; } = "{}";
    /// <summary>Subject key for artifact paths (a content or app-build id); null means <c>_</c>.</summary>
    public string? Subject { get; set; }
    public int StepTimeoutMs { get; set; }
    public int UploadTimeoutMs { get; set; }
    public required string Status { get; set; }
    public int TotalDevices { get; set; }
    public int QueuedCount { get; set; }
    public int RunningCount { get; set; }
    public int SucceededCount { get; set; }
    public int FailedCount { get; set; }
    public int SkippedCount { get; set; }
    public int CancelledCount { get; set; }
    public string? CreatedBy { get; set; }
    public string? LastErrorMessage { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}
