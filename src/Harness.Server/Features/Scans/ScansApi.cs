using System.Security.Claims;
using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Audit;
using Harness.Server.Features.Dispatch;
using Harness.Server.Http;
using Harness.Server.Security;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Scans;

/// <summary>
/// Device scans: an operator asks a node to discover its devices now; the agent picks the scan up
/// with its next pull, lists its devices and reports them; new devices get index numbers by the
/// policy in docs/concepts.md.
/// </summary>
public static class ScansApi
{
    public static IEndpointRouteBuilder MapScansApi(this IEndpointRouteBuilder app)
    {
        var scans = app.MapGroup(Routes.NodesScan).WithTags("Nodes").RequireAuthorization(HarnessAuth.OperatorPolicy);
        scans.MapPost("", Create).WithSummary("Scan one node (node_id) or every node for devices; returns the scan jobs.");
        scans.MapGet("", List).WithSummary("Recent scans, newest first.");
        scans.MapGet("/{scanId:guid}", Get).WithSummary("One scan and what it found.");
        return app;
    }

    private static async Task<Results<Ok<List<ScanJobView>>, ValidationProblem>> Create(
        ScanRequest? request, HarnessDbContext db, TimeProvider time, DispatchSignal signal, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        errors.MaxLength("node_id", request?.NodeId, Limits.NameLength);
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        var (scans, invalid) = await RequestAsync(db, time, signal, request?.NodeId, user.Actor(), cancellationToken);
        return invalid is not null ? invalid.ToProblem() : TypedResults.Ok(scans!);
    }

    /// <summary>Asks one node (or every device node) to scan: the API's POST and the console's scan button.</summary>
    public static async Task<(List<ScanJobView>? Scans, ValidationErrors? Invalid)> RequestAsync(
        HarnessDbContext db, TimeProvider time, DispatchSignal signal, string? nodeId, string actor, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var request = new ScanRequest(nodeId);
        // Without a node_id, every node that drives devices is scanned.
        var agents = request.NodeId is { } node
            ? await db.Agents.AsNoTracking().Where(a => a.Name == node).ToListAsync(cancellationToken)
            : await db.Agents.AsNoTracking().Where(a => a.Runtimes.Contains("devices")).ToListAsync(cancellationToken);
        if (request.NodeId is not null && agents.Count == 0)
        {
            errors.Add("node_id", $"no node '{request.NodeId}'");
            return (null, errors);
        }
        var now = time.GetUtcNow();
        var scans = agents.Select(a => new ScanJobEntity { Id = Guid.NewGuid(), AgentId = a.Id, Status = ScanStatus.Pending, RequestedBy = actor, RequestedAt = now }).ToList();
        db.ScanJobs.AddRange(scans);
        foreach (var scan in scans)
        {
            ScanJobsMirror.Add(db, scan, agents.Single(a => a.Id == scan.AgentId).Name);
        }
        AuditLog.Record(db, now, actor, "scan.requested", request.NodeId ?? "*", new { scans = scans.Count });
        await db.SaveChangesAsync(cancellationToken);
        signal.Notify(scans.Select(s => s.AgentId));
        var names = agents.ToDictionary(a => a.Id, a => a.Name);
        return (await ViewsAsync(db, scans, names, cancellationToken), null);
    }

    private static async Task<Ok<List<ScanJobView>>> List(HarnessDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(await RecentAsync(db, cancellationToken));

    /// <summary>The 100 most recent scans, newest first.</summary>
    public static async Task<List<ScanJobView>> RecentAsync(HarnessDbContext db, CancellationToken cancellationToken)
    {
        var scans = await db.ScanJobs.AsNoTracking().OrderByDescending(s => s.RequestedAt).Take(100).ToListAsync(cancellationToken);
        var names = await db.Agents.AsNoTracking().ToDictionaryAsync(a => a.Id, a => a.Name, cancellationToken);
        return await ViewsAsync(db, scans, names, cancellationToken);
    }

    private static async Task<Results<Ok<ScanJobView>, ProblemHttpResult>> Get(Guid scanId, HarnessDbContext db, CancellationToken cancellationToken)
    {
        var scan = await db.ScanJobs.AsNoTracking().SingleOrDefaultAsync(s => s.Id == scanId, cancellationToken);
        if (scan is null)
        {
            return Problems.NotFound($"scan_id: no scan '{scanId}'");
        }
        var names = await db.Agents.AsNoTracking().Where(a => a.Id == scan.AgentId).ToDictionaryAsync(a => a.Id, a => a.Name, cancellationToken);
        return TypedResults.Ok((await ViewsAsync(db, [scan], names, cancellationToken))[0]);
    }

    private static async Task<List<ScanJobView>> ViewsAsync(HarnessDbContext db, IReadOnlyList<ScanJobEntity> scans, Dictionary<Guid, string> names, CancellationToken cancellationToken)
    {
        var stored = scans.ToDictionary(s => s.Id, s => ScanResults.Parse(s.Result));
        var ids = stored.Values.Where(r => r is not null).SelectMany(r => r!.DeviceIds).Distinct().ToList();
        var devices = await db.Devices.AsNoTracking().Where(d => ids.Contains(d.DeviceId)).ToDictionaryAsync(d => d.DeviceId, StringComparer.Ordinal, cancellationToken);
        return scans.Select(s =>
        {
            var r = stored[s.Id];
            var result = r is null ? null : new ScanResultView(r.Found, r.Added, r.Missing,
                r.DeviceIds.Select(id => devices.GetValueOrDefault(id) is { } d
                        ? new ScannedDevice(id, d.IndexNo, d.Model, d.State)
                        : new ScannedDevice(id, null, null, null))
                    .OrderBy(d => d.IndexNo ?? int.MaxValue).ToList());
            return new ScanJobView(s.Id, names.GetValueOrDefault(s.AgentId) ?? s.AgentId.ToString(), s.Status, result, s.LastErrorMessage, s.RequestedAt, s.StartedAt, s.FinishedAt);
        }).ToList();
    }
}
