namespace Harness.Server.Data.Entities;

/// <summary>An operator. Tokens belong to a user; the bootstrap admin is the first one.</summary>
public sealed class UserEntity
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public required string Role { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
