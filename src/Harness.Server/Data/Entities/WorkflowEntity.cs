namespace Harness.Server.Data.Entities;

/// <summary>One immutable version of a workflow recipe. (Id, Version) is the key; Id is stable across versions.</summary>
public sealed class WorkflowEntity
{
    public Guid Id { get; set; }
    public int Version { get; set; }
    public required string Name { get; set; }
    /// <summary>The DSL document exactly as validated and stored.</summary>
    public required string Definition { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
