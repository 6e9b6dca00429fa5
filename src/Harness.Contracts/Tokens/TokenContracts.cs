namespace Harness.Contracts.Tokens;

/// <summary><c>POST /api/tokens</c>: a named operator token made by an admin.</summary>
public sealed record CreateTokenRequest(string? Name, string? Role = null);

public sealed record TokenView(Guid Id, string Name, string Role, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>Returned once: the token itself is stored only as a hash.</summary>
public sealed record TokenCreatedResponse(TokenView Token, string Secret);

public static class OperatorRoles
{
    public const string Admin = "admin";
    public const string Operator = "operator";
}
