using Harness.Contracts.Tokens;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Security;

/// <summary>
/// First start without HARNESS_ADMIN_TOKEN: generate an admin token, store only its hash, and hand
/// the plain text back to the caller to print once.
/// </summary>
public sealed class AdminTokenBootstrap(IServiceScopeFactory scopes, IOptions<HarnessServerOptions> options, TimeProvider time)
{
    public const string AdminUserName = "admin";

    /// <returns>The new token, or null when HARNESS_ADMIN_TOKEN is set or an admin token already exists.</returns>
    public async Task<string?> EnsureAsync(CancellationToken cancellationToken)
    {
        if (options.Value.AdminToken is not null)
        {
            return null;
        }
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HarnessDbContext>();
        if (await db.OperatorTokens.AnyAsync(t => t.Role == OperatorRoles.Admin && t.RevokedAt == null, cancellationToken))
        {
            return null;
        }
        return await IssueAsync(db, AdminUserName, cancellationToken);
    }

    /// <summary>Makes a new admin token named <paramref name="name"/> (used by <c>harness dev</c> when its saved copy is gone).</summary>
    public async Task<string> IssueAsync(string name, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await IssueAsync(scope.ServiceProvider.GetRequiredService<HarnessDbContext>(), name, cancellationToken);
    }

    private async Task<string> IssueAsync(HarnessDbContext db, string name, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var user = await db.Users.SingleOrDefaultAsync(u => u.Name == AdminUserName, cancellationToken);
        if (user is null)
        {
            user = new UserEntity { Id = Guid.CreateVersion7(now), Name = AdminUserName, Role = OperatorRoles.Admin, CreatedAt = now };
            db.Users.Add(user);
        }
        var secret = SecretKeys.Generate(SecretKeys.OperatorPrefix);
        db.OperatorTokens.Add(new OperatorTokenEntity
        {
            Id = Guid.CreateVersion7(now),
            UserId = user.Id,
            Name = name,
            Role = OperatorRoles.Admin,
            TokenId = secret.Id,
            TokenHash = secret.Hash,
            CreatedAt = now,
        });
        db.AuditLog.Add(new AuditLogEntity { At = now, Actor = "system", Action = "admin_token.generated", Subject = name });
        await db.SaveChangesAsync(cancellationToken);
        return secret.Full;
    }
}
