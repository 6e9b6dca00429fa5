namespace Harness.Server.Security;

public static class HarnessAuth
{
    /// <summary>Operators: the admin token or a token made from it.</summary>
    public const string OperatorScheme = "Operator";
    /// <summary>Agents: each with its own API key.</summary>
    public const string AgentScheme = "Agent";
    /// <summary>The web console: an HttpOnly cookie issued after signing in with an operator token.</summary>
    public const string ConsoleScheme = "Console";

    public const string OperatorPolicy = "operator";
    public const string AdminPolicy = "admin";
    public const string AgentPolicy = "agent";
    /// <summary>Console pages: the operator policy's requirement, met by the console's cookie.</summary>
    public const string ConsolePolicy = "console";

    public const string RoleClaim = "harness:role";
    public const string AgentIdClaim = "harness:agent_id";
    public const string AgentNameClaim = "harness:agent_name";
}
