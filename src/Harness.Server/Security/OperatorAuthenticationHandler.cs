using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Harness.Server.Security;

internal sealed class OperatorAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IProblemDetailsService problems,
    OperatorTokenCheck check) : ProblemAuthenticationHandler(options, logger, encoder, problems)
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
        var (identity, failure) = await check.CheckAsync(presented, Context.RequestAborted);
        return identity is null ? AuthenticateResult.Fail(failure!) : Success(identity.Name, identity.Role);
    }

    private AuthenticateResult Success(string name, string role)
    {
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, name), new Claim(HarnessAuth.RoleClaim, role)],
            HarnessAuth.OperatorScheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), HarnessAuth.OperatorScheme));
    }
}
