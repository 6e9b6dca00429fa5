namespace Harness.Server.Data.Entities;

/// <summary>A reusable command: one step or a small list of steps, with named parameters.</summary>
public sealed class CommandAssetEntity
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    /// <summary>JSON array of DSL steps.</summary>
    public required string Steps { get; set; }
    /// <summary>JSON object of parameter defaults.</summary>
    public string Params { get; set; } = "{}";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
