using Harness.Contracts.Dashboard;
using Harness.Contracts.Nodes;
using Harness.Contracts.Runs;
using Harness.Server.Data;
using Harness.Server.Features.Devices;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Dashboard;

/// <summary>The dashboard's numbers, computed once for the API and the console alike.</summary>
public static class DashboardReport
{
    /// <summary>Runs and tasks from the database; devices from <paramref name="fleet"/>, the copy the device listings share.</summary>
    public static async Task<DashboardResponse> BuildAsync(
        HarnessDbContext db, FleetSnapshot.Copy fleet, TimeProvider time, string window, TimeSpan span, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var since = now - span;
        var runs = await db.Runs.AsNoTracking().Where(r => r.CreatedAt >= since)
            .Select(r => new { r.Id, r.Status, r.WorkflowId, r.FinishedAt, r.TotalDevices, r.FailedCount }).ToListAsync(cancellationToken);
        var runIds = runs.Select(r => r.Id).ToList();
        var tasks = await db.RunDeviceStates.AsNoTracking().Where(s => runIds.Contains(s.RunId))
            .Select(s => new { s.Status, s.FailureReason, s.StartedAt, s.FinishedAt }).ToListAsync(cancellationToken);

        var ran = tasks.Where(t => t.Status is DeviceRunStatus.Succeeded or DeviceRunStatus.Failed or DeviceRunStatus.TimedOut).ToList();
        var succeeded = ran.Count(t => t.Status == DeviceRunStatus.Succeeded);
        var durations = ran.Where(t => t.StartedAt is not null && t.FinishedAt is not null)
            .Select(t => (long)(t.FinishedAt!.Value - t.StartedAt!.Value).TotalMilliseconds).Order().ToList();
        var failures = tasks.Where(t => t.Status is DeviceRunStatus.Failed or DeviceRunStatus.TimedOut or DeviceRunStatus.SkippedOffline)
            .GroupBy(t => t.FailureReason ?? t.Status).OrderByDescending(g => g.Count())
            .ToDictionary(g => g.Key, g => g.Count());

        var devices = fleet.Devices;
        var online = fleet.Online;
        var kpis = new DashboardKpis(
            runs.Count,
            runs.Count(r => r.Status is RunStatus.Queued or RunStatus.Running),
            runs.Count(r => r.Status == RunStatus.Succeeded),
            runs.Count(r => r.Status == RunStatus.Failed),
            runs.Count(r => r.Status == RunStatus.Cancelled),
            tasks.Count,
            succeeded,
            ran.Count == 0 ? null : Math.Round((double)succeeded / ran.Count, 4),
            devices.Count,
            online,
            devices.Count == 0 ? null : Math.Round((double)online / devices.Count, 4),
            failures,
            DashboardApi.Percentile(durations, 0.50),
            DashboardApi.Percentile(durations, 0.95));

        var workflowIds = runs.Where(r => r.WorkflowId is not null).Select(r => r.WorkflowId).Distinct().ToList();
        var names = await db.Workflows.AsNoTracking().Where(w => workflowIds.Contains(w.Id)).Select(w => new { w.Id, w.Name }).Distinct().ToListAsync(cancellationToken);
        var agents = await db.Agents.AsNoTracking().Where(a => a.Status == "error").ToListAsync(cancellationToken);
        var todo = new DashboardTodo(
            devices.Where(d => d.Status != OnlineStatus.Online).OrderBy(d => d.IndexNo ?? int.MaxValue).Take(DashboardApi.TodoLimit)
                .Select(d => new TodoDevice(d.DeviceId, d.IndexNo, d.NodeId, d.LastSeen, d.LastErrorMessage)).ToList(),
            devices.Where(d => d.QuarantinedAt is not null).OrderBy(d => d.IndexNo ?? int.MaxValue).Take(DashboardApi.TodoLimit)
                .Select(d => new TodoDevice(d.DeviceId, d.IndexNo, d.NodeId, d.LastSeen, d.LastErrorMessage)).ToList(),
            runs.Where(r => r.Status == RunStatus.Failed).OrderByDescending(r => r.FinishedAt).Take(DashboardApi.TodoLimit)
                .Select(r => new TodoRun(r.Id, names.FirstOrDefault(n => n.Id == r.WorkflowId)?.Name, r.FailedCount, r.TotalDevices, r.FinishedAt)).ToList(),
            agents.Select(a => new TodoAgent(a.Id, a.Name, a.Status, a.LastSeen, a.LastErrorMessage)).ToList());
        return new DashboardResponse(window, since, kpis, todo);
    }

}
