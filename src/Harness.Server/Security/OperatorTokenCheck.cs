using Harness.Contracts.Tokens;
using Harness.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Security;

/// <summary>Who an operator token belongs to.</summary>
public sealed record OperatorIdentity(string Name, string Role);

/// <summary>
/// The one check of an operator token: the API's bearer scheme and the console's sign-in both use it,
/// so a token the API refuses never opens the console.
/// </summary>
public sealed class OperatorTokenCheck(HarnessDbContext db, IOptions<HarnessServerOptions> server)
{
    /// <returns>The operator, or null with <paramref name="failure"/> saying why.</returns>
    public async Task<(OperatorIdentity? Operator, string? Failure)> CheckAsync(string presented, CancellationToken cancellationToken)
    {
        if (server.Value.AdminToken is { } adminToken && SecretKeys.SecretEquals(adminToken, presented))
        {
            return (new OperatorIdentity("admin", OperatorRoles.Admin), null);
        }
        if (!SecretKeys.TryParse(presented, SecretKeys.OperatorPrefix, out var id, out var secret))
        {
            return (null, "not an operator token");
        }
        var token = await db.OperatorTokens.AsNoTracking()
            .Where(t => t.TokenId == id && t.RevokedAt == null)
            .Select(t => new { t.Name, t.Role, t.TokenHash })
            .SingleOrDefaultAsync(cancellationToken);
        return token is not null && SecretKeys.Matches(token.TokenHash, secret)
            ? (new OperatorIdentity(token.Name, token.Role), null)
            : (null, "unknown or revoked token");
    }
}
