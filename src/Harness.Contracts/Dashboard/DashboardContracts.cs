namespace Harness.Contracts.Dashboard;

/// <summary><c>GET /api/dashboard?window=24h</c>: KPIs over the window and what needs an operator.</summary>
public sealed record DashboardResponse(string Window, DateTimeOffset Since, DashboardKpis Kpis, DashboardTodo Todo);

public sealed record DashboardKpis(
    int Runs,
    int RunsRunning,
    int RunsSucceeded,
    int RunsFailed,
    int RunsCancelled,
    int DeviceTasks,
    int DeviceTasksSucceeded,
    double? DeviceSuccessRate,
    int DevicesTotal,
    int DevicesOnline,
    double? OnlineRatio,
    IReadOnlyDictionary<string, int> FailuresByReason,
    long? TaskDurationP50Ms,
    long? TaskDurationP95Ms);

public sealed record DashboardTodo(
    IReadOnlyList<TodoDevice> OfflineDevices,
    IReadOnlyList<TodoDevice> QuarantinedDevices,
    IReadOnlyList<TodoRun> FailedRuns,
    IReadOnlyList<TodoAgent> AgentsInError);

public sealed record TodoDevice(string DeviceId, int? IndexNo, string NodeId, DateTimeOffset? LastSeen, string? LastErrorMessage);

public sealed record TodoRun(Guid RunId, string? WorkflowName, int Failed, int Total, DateTimeOffset? FinishedAt);

public sealed record TodoAgent(Guid AgentId, string Name, string Status, DateTimeOffset? LastSeen, string? LastErrorMessage);
