using System.Security.Claims;
using System.Text.Encodings.Web;
using Harness.Contracts.Tokens;
using Harness.Server.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Security;

internal sealed class OperatorAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IProblemDetailsService problems,
    IOptions<HarnessServerOptions> server,
    HarnessDbContext db) : ProblemAuthenticationHandler(options, logger, encoder, problems)
{
    protected override string ChallengeDetail =>
        "authorization: send an operator token as 'Authorization: Bearer <token>' (the admin token printed at first start, HARNESS_ADMIN_TOKEN, or one made with POST /api/tokens)";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = BearerToken(Request);
        if (string.IsNullOrEmpty(presented))
        {
            return AuthenticateResult.NoResult();
        }
        if (server.Value.AdminToken is { } adminToken && SecretKeys.SecretEquals(adminToken, presented))
        {
            return Success("admin", OperatorRoles.Admin);
        }
        if (!SecretKeys.TryParse(presented, SecretKeys.OperatorPrefix, out var id, out var secret))
        {
            return AuthenticateResult.Fail("not an operator token");
        }
        var token = await db.OperatorTokens.AsNoTracking()
            .Where(t => t.TokenId == id && t.RevokedAt == null)
            .Select(t => new { t.Name, t.Role, t.TokenHash })
            .SingleOrDefaultAsync(Context.RequestAborted);
        return token is not null && SecretKeys.Matches(token.TokenHash, secret)
            ? Success(token.Name, token.Role)
            : AuthenticateResult.Fail("unknown or revoked token");
    }

    private AuthenticateResult Success(string name, string role)
    {
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, name), new Claim(HarnessAuth.RoleClaim, role)],
            HarnessAuth.OperatorScheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), HarnessAuth.OperatorScheme));
    }
}
