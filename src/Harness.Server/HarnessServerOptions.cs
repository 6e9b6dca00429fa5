namespace Harness.Server;

/// <summary>The server's settings, bound from the <c>Harness</c> configuration section.</summary>
public sealed class HarnessServerOptions
{
    public const string Section = "Harness";

    public DatabaseOptions Database { get; set; } = new();

    /// <summary>A device or agent is Online when its last_seen is within this many seconds.</summary>
    public int OnlineWindowSec { get; set; } = 30;

    /// <summary>Largest request body accepted, in bytes; larger bodies get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>When set (HARNESS_ADMIN_TOKEN), the admin token; otherwise one is generated on first start.</summary>
    public string? AdminToken { get; set; }

    /// <summary>When set (NODE_AGENT_SHARED_SECRET), lets a new agent enroll itself once.</summary>
    public string? EnrollmentSecret { get; set; }

    /// <summary>Apply pending migrations when the server starts.</summary>
    public bool MigrateOnStart { get; set; } = true;
}

public sealed class DatabaseOptions
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary><c>sqlite</c> (embedded default) or <c>postgres</c>.</summary>
    public string Provider { get; set; } = Sqlite;

    public string ConnectionString { get; set; } = "Data Source=harness.db";
}
