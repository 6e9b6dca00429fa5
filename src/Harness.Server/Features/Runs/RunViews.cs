using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Runs;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Http;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Runs;

/// <summary>Builds the run views the API returns from the rows (wire types never leak entities).</summary>
public static class RunViews
{
    public static async Task<List<RunSummary>> SummariesAsync(HarnessDbContext db, IReadOnlyList<RunEntity> runs, CancellationToken cancellationToken)
    {
        var ids = runs.Select(r => r.Id).ToList();
        var counts = await RunProgress.CountAsync(db, ids, cancellationToken);
        var workflowIds = runs.Where(r => r.WorkflowId is not null).Select(r => r.WorkflowId!.Value).Distinct().ToList();
        var names = await db.Workflows.AsNoTracking().Where(w => workflowIds.Contains(w.Id))
            .Select(w => new { w.Id, w.Name }).Distinct().ToListAsync(cancellationToken);
        var playbookIds = runs.Where(r => r.PlaybookId is not null).Select(r => r.PlaybookId!.Value).Distinct().ToList();
        var playbooks = await db.Playbooks.AsNoTracking().Where(p => playbookIds.Contains(p.Id))
            .Select(p => new { p.Id, p.Name }).ToListAsync(cancellationToken);
        return runs.Select(r => new RunSummary(
            r.Id, r.WorkflowId,
            names.FirstOrDefault(n => n.Id == r.WorkflowId)?.Name ?? playbooks.FirstOrDefault(p => p.Id == r.PlaybookId)?.Name,
            r.WorkflowVersion, r.PlaybookId, r.Seed, r.Status, counts[r.Id], r.Concurrency, r.Subject, r.CreatedBy,
            r.LastErrorMessage, r.CreatedAt, r.StartedAt, r.FinishedAt)).ToList();
    }

    public static async Task<RunDetail?> DetailAsync(HarnessDbContext db, Guid runId, CancellationToken cancellationToken)
    {
        var run = await db.Runs.AsNoTracking().SingleOrDefaultAsync(r => r.Id == runId, cancellationToken);
        if (run is null)
        {
            return null;
        }
        var summary = (await SummariesAsync(db, [run], cancellationToken))[0];
        var states = await db.RunDeviceStates.AsNoTracking().Where(s => s.RunId == runId).ToListAsync(cancellationToken);
        var steps = (await db.RunSteps.AsNoTracking().Where(s => s.RunId == runId).ToListAsync(cancellationToken))
            .ToLookup(s => s.DeviceId, StringComparer.Ordinal);
        var artifacts = (await db.Artifacts.AsNoTracking().Where(a => a.RunId == runId).ToListAsync(cancellationToken))
            .ToLookup(a => a.DeviceId ?? "", StringComparer.Ordinal);
        var deviceIds = states.Select(s => s.DeviceId).ToList();
        var indexes = await db.Devices.AsNoTracking().Where(d => deviceIds.Contains(d.DeviceId))
            .ToDictionaryAsync(d => d.DeviceId, d => d.IndexNo, cancellationToken);
        var devices = states
            .Select(s => new RunDeviceView(
                s.DeviceId, indexes.GetValueOrDefault(s.DeviceId), s.NodeId ?? "", s.Status, s.FailureReason, s.Attempt,
                s.StartedAt, s.FinishedAt,
                steps[s.DeviceId].Where(st => st.Attempt == s.Attempt || s.Attempt == 0)
                    .OrderBy(st => st.StartedAt ?? DateTimeOffset.MaxValue).ThenBy(st => st.Id)
                    .Select(st => new RunStepView(st.StepId, st.Type, st.Attempt, st.Status, st.StartedAt, st.FinishedAt, st.DurationMs, st.Output, st.Error))
                    .ToList(),
                artifacts[s.DeviceId].OrderBy(a => a.CreatedAt).Select(ToView).ToList()))
            .OrderBy(d => d.IndexNo == null).ThenBy(d => d.IndexNo).ThenBy(d => d.DeviceId, StringComparer.Ordinal)
            .ToList();
        var target = JsonSerializer.Deserialize(run.Target, RunJson.Default.RunTarget)!;
        var vars = JsonSerializer.Deserialize(run.Vars, RunJson.Default.DictionaryStringString)!;
        return new RunDetail(summary, target, vars, devices);
    }

    /// <summary>One page of runs, newest first, as the API and the console list them.</summary>
    public static async Task<Page<RunSummary>> PageAsync(
        HarnessDbContext db, PageRequest page, string? status, Guid? workflowId, Guid? playbookId, CancellationToken cancellationToken)
    {
        var query = db.Runs.AsNoTracking();
        if (status is not null)
        {
            query = query.Where(r => r.Status == status);
        }
        if (workflowId is not null)
        {
            query = query.Where(r => r.WorkflowId == workflowId);
        }
        if (playbookId is not null)
        {
            query = query.Where(r => r.PlaybookId == playbookId);
        }
        if (page.After is { } after)
        {
            var at = after.CreatedAt;
            var id = after.Id;
            query = query.Where(r => r.CreatedAt < at || (r.CreatedAt == at && r.Id.CompareTo(id) < 0));
        }
        var rows = await query.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Take(page.Take + 1).ToListAsync(cancellationToken);
        var next = page.Trim(rows, r => (r.CreatedAt, r.Id));
        var summaries = await RunViews.SummariesAsync(db, rows, cancellationToken);
        return new Page<RunSummary>(summaries, next);
    }

    public static ArtifactView ToView(ArtifactEntity a) =>
        new(a.Id, a.Kind, a.ContentType, a.Size, a.Sha256, a.StoragePath, a.StepId, a.CreatedAt, $"{Routes.Artifacts}/{a.Id}");
}
