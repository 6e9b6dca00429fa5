using System.Security.Claims;
using System.Text.RegularExpressions;
using Harness.Contracts;
using Harness.Contracts.Jobs;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Artifacts;
using Harness.Server.Http;
using Harness.Server.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Jobs;

/// <summary>What a sandbox-capable agent says about jobs: claim (long-poll), events (start, output), artifacts, completion.</summary>
public static partial class NodeJobsApi
{
    public static IEndpointRouteBuilder MapNodeJobsApi(this IEndpointRouteBuilder app)
    {
        var nodes = app.MapGroup(Routes.NodesJobs).WithTags("Nodes").RequireAuthorization(HarnessAuth.AgentPolicy);
        nodes.MapPost("/claim", (ClaimJobsRequest request, ClaimsPrincipal user, SandboxJobService jobs, CancellationToken ct) =>
                jobs.ClaimAsync(user.AgentId(), request, ct))
            .WithSummary("Long-poll for sandbox jobs; renews the leases of the running ones and lists those to cancel.");
        nodes.MapPost("/{id:guid}/events", (Guid id, JobEventsRequest request, ClaimsPrincipal user, SandboxJobService jobs, CancellationToken ct) =>
                jobs.EventsAsync(user.AgentId(), id, request, ct))
            .WithSummary("The job started and/or more output lines (idempotent by seq); answers whether to cancel it.");
        nodes.MapPost("/{id:guid}/complete", (Guid id, CompleteJobRequest request, ClaimsPrincipal user, SandboxJobService jobs, CancellationToken ct) =>
                jobs.CompleteAsync(user.AgentId(), id, request, ct))
            .WithSummary("How the job ended; the first report wins, repeats get the same answer.");
        nodes.MapPut("/{id:guid}/artifacts", UploadArtifact)
            .WithSummary("Upload one file the job left (raw body, ?name=relative/path); a repeat of the same name returns the stored one.");
        return app;
    }

    [GeneratedRegex(@"^[A-Za-z0-9._\-]+(/[A-Za-z0-9._\-]+)*$")]
    private static partial Regex ArtifactName();

    private static async Task<IResult> UploadArtifact(
        Guid id, string? name, HttpContext http, ClaimsPrincipal user, HarnessDbContext db, IArtifactStore store, TimeProvider time,
        IOptions<HarnessServerOptions> options, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 512 || !ArtifactName().IsMatch(name) || name.Split('/').Any(p => p is "." or ".."))
        {
            return Problems.Field(StatusCodes.Status400BadRequest, "Bad artifact name", "name", "required: a relative path of letters, digits, '.', '_', '-' and '/' (no '..')");
        }
        var (job, refused) = await SandboxJobService.HeldAsync(db.Jobs.AsNoTracking(), user.AgentId(), id, cancellationToken);
        if (job is null)
        {
            return refused!;
        }
        var path = SandboxJobService.JobArtifactPrefix(id) + name;
        var existing = await db.Artifacts.AsNoTracking().SingleOrDefaultAsync(a => a.StoragePath == path, cancellationToken);
        if (existing is not null)
        {
            return TypedResults.Ok(new JobArtifactView(existing.Id, name, existing.Size, existing.Sha256, $"{Routes.Artifacts}/{existing.Id}"));
        }
        var max = options.Value.Artifacts.MaxBytes;
        await using var spooled = await ArtifactSpool.ReadAsync(http, max, cancellationToken);
        if (spooled is null)
        {
            return ArtifactSpool.TooLarge(max);
        }
        await using (var content = spooled.OpenRead())
        {
            await store.SaveAsync(path, content, cancellationToken);
        }
        var artifact = new ArtifactEntity
        {
            Id = Guid.NewGuid(), Kind = "file", ContentType = "application/octet-stream", Size = spooled.Size, Sha256 = spooled.Sha256,
            StoragePath = path, JobId = id, CreatedAt = time.GetUtcNow(),
        };
        db.Artifacts.Add(artifact);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            var raced = await db.Artifacts.AsNoTracking().SingleOrDefaultAsync(a => a.StoragePath == path, cancellationToken);
            if (raced is null)
            {
                throw;
            }
            artifact = raced;
        }
        return TypedResults.Ok(new JobArtifactView(artifact.Id, name, artifact.Size, artifact.Sha256, $"{Routes.Artifacts}/{artifact.Id}"));
    }
}
