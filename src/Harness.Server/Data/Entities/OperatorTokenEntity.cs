namespace Harness.Server.Data.Entities;

/// <summary>An operator API token, stored as the SHA-256 of its secret half.</summary>
public sealed class OperatorTokenEntity
{
    public Guid Id { get; set; }
    public Guid? UserId { get; set; }
    public required string Name { get; set; }
    public required string Role { get; set; }
    public required string TokenId { get; set; }
    public required byte[] TokenHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}
