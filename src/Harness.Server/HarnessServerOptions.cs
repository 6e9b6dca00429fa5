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

    /// <summary>
    /// On SIGTERM, how long requests already in flight may take to finish (long-polls answer at once)
    /// before the server exits anyway. HARNESS_SHUTDOWN_TIMEOUT_SEC.
    /// </summary>
    public double ShutdownTimeoutSec { get; set; } = 30;

    /// <summary>Apply pending migrations when the server starts.</summary>
    public bool MigrateOnStart { get; set; } = true;

    public DispatchOptions Dispatch { get; set; } = new();

    public ArtifactOptions Artifacts { get; set; } = new();

    public RuntimeOptions Runtime { get; set; } = new();

    public WorkspaceOptions Workspaces { get; set; } = new();
}

/// <summary>How the server authenticates to agents' Runtime Agent API.</summary>
public sealed class RuntimeOptions
{
    /// <summary>
    /// The secret every agent's runtime key is derived from (HARNESS_RUNTIME_KEY_SECRET). When unset,
    /// one is generated on first start and kept in the database's server_settings, shared by every replica.
    /// </summary>
    public string? KeySecret { get; set; }
}

/// <summary>Workspaces: agent calls, health checks, the reconciler and archives (docs/workspaces.md).</summary>
public sealed class WorkspaceOptions
{
    /// <summary>Timeout of one Runtime Agent API call (start, stop, volume) made in a request.</summary>
    public int AgentCallTimeoutSec { get; set; } = 120;

    /// <summary>Timeout of an archive or restore job (the agent streams the volume to or from the server).</summary>
    public int ArchiveTimeoutSec { get; set; } = 1800;

    /// <summary>How long a transitional state may last before the reconciler settles it.</summary>
    public int StateDeadlineSec { get; set; } = 300;

    /// <summary>How often each workspace agent's GET /health is probed when it answers.</summary>
    public int HealthIntervalSec { get; set; } = 30;

    /// <summary>Timeout of one health probe.</summary>
    public int HealthTimeoutSec { get; set; } = 30;

    /// <summary>The longest wait between probes of an agent that keeps failing (the backoff's cap).</summary>
    public int HealthMaxBackoffSec { get; set; } = 300;

    /// <summary>Failed probes in a row after which the agent is put in error, and its workspaces with it.</summary>
    public int HealthFailureThreshold { get; set; } = 3;

    /// <summary>How often the reconciler settles overdue transitions and compares agents' instances with the database.</summary>
    public int ReconcileIntervalSec { get; set; } = 30;

    /// <summary>
    /// A running workspace without proxied traffic for this long is stopped (its volume stays);
    /// 0 never stops one. HARNESS_WORKSPACE_IDLE_STOP_MIN.
    /// </summary>
    public int IdleStopMinutes { get; set; } = 120;

    /// <summary>How often idle workspaces are looked for.</summary>
    public int IdleCheckIntervalSec { get; set; } = 60;

    /// <summary>Largest workspace archive accepted from an agent, in bytes (MAX_WORKSPACE_ARCHIVE_BYTES).</summary>
    public long MaxArchiveBytes { get; set; } = 10L * 1024 * 1024 * 1024;
}

/// <summary>How device tasks are leased to agents (DESIGN.md §11: leases, not hope).</summary>
public sealed class DispatchOptions
{
    /// <summary>
    /// How long a lease lives without renewal: the lost-agent timeout (LOST_AGENT_TIMEOUT_SEC). A lapsed
    /// lease is re-dispatched if its task never started, else failed as node_lost.
    /// </summary>
    public int LeaseSec { get; set; } = 60;

    /// <summary>The longest a pull may wait for work.</summary>
    public int MaxPullWaitMs { get; set; } = 30_000;

    /// <summary>How often the sweeper looks for lapsed leases and overdue tasks.</summary>
    public double SweepIntervalSec { get; set; } = 5;

    /// <summary>Added to a task's deadline before the server itself times it out (the agent enforces it first).</summary>
    public int DeadlineMarginSec { get; set; } = 30;

    /// <summary>Step timeout when neither the step nor the workflow sets one.</summary>
    public int DefaultStepTimeoutMs { get; set; } = 90_000;

    /// <summary>Upload timeout when neither the step nor the workflow sets one.</summary>
    public int DefaultUploadTimeoutMs { get; set; } = 30_000;

    /// <summary>What the agent's gates and grace waits may add to a task's step budget.</summary>
    public int TaskOverheadMs { get; set; } = 120_000;

    /// <summary>Per-run concurrency when the run does not say (MAX_CONCURRENCY_PER_NODE caps each agent anyway).</summary>
    public int DefaultRunConcurrency { get; set; } = 20;

    /// <summary>
    /// How many transactions apply callbacks side by side, each for all the callbacks waiting when it begins (a
    /// group commit, <see cref="Features.Callbacks.CallbackGroups"/>); SQLite uses at most one. 0: every callback
    /// in a transaction of its own.
    /// </summary>
    public int CallbackWriters { get; set; } = 2;

    /// <summary>
    /// How many transactions claim tasks side by side, each for the claims of every pull waiting when it begins
    /// (a group commit, <see cref="Features.Dispatch.ClaimGroups"/>); SQLite uses at most one. 0: every claim in a
    /// transaction of its own.
    /// </summary>
    public int ClaimWriters { get; set; } = 2;
}

public sealed class ArtifactOptions
{
    /// <summary>Root folder of the filesystem artifact store (HARNESS_ARTIFACTS_DIR).</summary>
    public string Root { get; set; } = "artifacts";

    /// <summary>Largest artifact accepted, in bytes (larger uploads get 413).</summary>
    public long MaxBytes { get; set; } = 10 * 1024 * 1024;
}

public sealed class DatabaseOptions
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary><c>sqlite</c> (embedded default) or <c>postgres</c>.</summary>
    public string Provider { get; set; } = Sqlite;

    public string ConnectionString { get; set; } = "Data Source=harness.db";
}
