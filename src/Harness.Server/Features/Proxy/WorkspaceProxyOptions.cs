namespace Harness.Server.Features.Proxy;

/// <summary>The workspace proxy (<c>Harness:Proxy</c>).</summary>
public sealed class WorkspaceProxyOptions
{
    public const string Section = "Harness:Proxy";

    /// <summary>How often proxied activity is written to <c>workspaces.last_activity_at</c>.</summary>
    public double ActivityFlushSec { get; set; } = 15;
}
