namespace Harness.Server;

/// <summary>
/// The documented environment variables, mapped onto configuration keys. The long form
/// (<c>Harness__Database__Provider</c>) works too; these are the names operators know from the seeds.
/// </summary>
public static class EnvironmentAliases
{
    public static readonly IReadOnlyDictionary<string, string> Map = new Dictionary<string, string>
    {
        ["HARNESS_ADMIN_TOKEN"] = "Harness:AdminToken",
        ["NODE_AGENT_SHARED_SECRET"] = "Harness:EnrollmentSecret",
        ["HARNESS_DATABASE_PROVIDER"] = "Harness:Database:Provider",
        ["HARNESS_DATABASE_URL"] = "Harness:Database:ConnectionString",
        ["ONLINE_WINDOW_SEC"] = "Harness:OnlineWindowSec",
        ["LOST_AGENT_TIMEOUT_SEC"] = "Harness:Dispatch:LeaseSec",
        ["HARNESS_ARTIFACTS_DIR"] = "Harness:Artifacts:Root",
        ["MAX_ARTIFACT_BYTES"] = "Harness:Artifacts:MaxBytes",
        ["HARNESS_RUNTIME_KEY_SECRET"] = "Harness:Runtime:KeySecret",
        ["MAX_WORKSPACE_ARCHIVE_BYTES"] = "Harness:Workspaces:MaxArchiveBytes",
        ["HARNESS_WORKSPACE_IDLE_STOP_MIN"] = "Harness:Workspaces:IdleStopMinutes",
        ["HARNESS_SHUTDOWN_TIMEOUT_SEC"] = "Harness:ShutdownTimeoutSec",
    };

    public static IEnumerable<KeyValuePair<string, string?>> Read() =>
        Map.Select(m => (m.Value, Environment.GetEnvironmentVariable(m.Key)))
            .Where(p => !string.IsNullOrEmpty(p.Item2))
            .Select(p => new KeyValuePair<string, string?>(p.Value, p.Item2));
}
