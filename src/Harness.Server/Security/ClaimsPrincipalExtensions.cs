using System.Security.Claims;

namespace Harness.Server.Security;

public static class ClaimsPrincipalExtensions
{
    public static Guid AgentId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(HarnessAuth.AgentIdClaim) ?? throw new InvalidOperationException("not an agent principal"));

    public static string AgentName(this ClaimsPrincipal user) =>
        user.FindFirstValue(HarnessAuth.AgentNameClaim) ?? throw new InvalidOperationException("not an agent principal");

    /// <summary>How the audit log names whoever acted: <c>token:ci-bot</c>, <c>agent:PC-01</c>.</summary>
    public static string Actor(this ClaimsPrincipal user) =>
        user.FindFirstValue(HarnessAuth.AgentNameClaim) is { } agent ? $"agent:{agent}" : $"token:{user.Identity?.Name ?? "anonymous"}";
}
