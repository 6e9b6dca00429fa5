using System.Security.Claims;
using System.Text.Encodings.Web;
using Harness.Contracts;
using Harness.Server.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Security;

internal sealed class AgentAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IProblemDetailsService problems,
    HarnessDbContext db,
    AgentKeyCache keys) : ProblemAuthenticationHandler(options, logger, encoder, problems)
{
    protected override string ChallengeDetail =>
        $"authorization: send this agent's API key as 'Authorization: Bearer <key>' or '{Routes.NodeAuthHeader}: <key>'";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = BearerToken(Request);
        if (string.IsNullOrEmpty(presented))
        {
            presented = Request.Headers[Routes.NodeAuthHeader].ToString().Trim();
        }
        if (string.IsNullOrEmpty(presented))
        {
            return AuthenticateResult.NoResult();
        }
        if (!SecretKeys.TryParse(presented, SecretKeys.AgentPrefix, out var id, out var secret))
        {
            return AuthenticateResult.Fail("not an agent key");
        }
        var agent = keys.Find(id);
        if (agent is null)
        {
            var version = keys.Version;
            var found = await db.Agents.AsNoTracking()
                .Where(a => a.ApiKeyId == id && a.KeyRevokedAt == null)
                .Select(a => new { a.Id, a.Name, a.ApiKeyHash })
                .SingleOrDefaultAsync(Context.RequestAborted);
            agent = found is null ? null : keys.Remember(version, id, found.Id, found.Name, found.ApiKeyHash);
        }
        if (agent is null || !SecretKeys.Matches(agent.Hash, secret))
        {
            return AuthenticateResult.Fail("unknown or revoked agent key");
        }
        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.Name, agent.Name),
                new Claim(HarnessAuth.AgentIdClaim, agent.AgentId.ToString()),
                new Claim(HarnessAuth.AgentNameClaim, agent.Name),
            ],
            HarnessAuth.AgentScheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), HarnessAuth.AgentScheme));
    }
}
