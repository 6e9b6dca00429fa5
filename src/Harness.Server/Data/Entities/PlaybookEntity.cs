namespace Harness.Server.Data.Entities;

/// <summary>An ordered list of command assets, each with a probability in [0,1].</summary>
public sealed class PlaybookEntity
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    /// <summary>JSON array of <c>{asset_id, probability}</c> in order.</summary>
    public required string Items { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
