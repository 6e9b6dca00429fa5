using Harness.Server.Data;
using Harness.Server.Data.Entities;

namespace Harness.Server.Features.Scans;

/// <summary>
/// A scan is also a generic job (DESIGN §3: <c>GET /jobs</c> lists scans): its <c>jobs</c> row shares
/// the scan's id and follows its status.
/// </summary>
public static class ScanJobsMirror
{
    public const string JobType = "scan";

    /// <summary>How long a scan may stay pending or running before the sweeper fails it.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromMinutes(10);

    public static void Add(HarnessDbContext db, ScanJobEntity scan, string nodeId) =>
        db.Jobs.Add(new JobEntity
        {
            Id = scan.Id,
            Type = JobType,
            Status = scan.Status,
            AgentId = scan.AgentId,
            Spec = Scans.ScanResults.SpecFor(nodeId),
            CreatedBy = scan.RequestedBy,
            CreatedAt = scan.RequestedAt,
            DeadlineAt = scan.RequestedAt + Deadline,
        });

    /// <summary>Copies the scan's state onto its job row (tracked; saved with the caller's changes).</summary>
    public static async Task SyncAsync(HarnessDbContext db, ScanJobEntity scan, CancellationToken cancellationToken)
    {
        if (await db.Jobs.FindAsync([scan.Id], cancellationToken) is not { } job)
        {
            return;
        }
        job.Status = scan.Status;
        job.StartedAt = scan.StartedAt;
        job.FinishedAt = scan.FinishedAt;
        job.Result = scan.Result;
        job.LastErrorMessage = scan.LastErrorMessage;
    }
}
