using System.Globalization;
using System.Security.Claims;
using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Runs;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Runs;
using Harness.Server.Http;
using Harness.Server.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Artifacts;

/// <summary>Agents upload artifacts (idempotent by event_id, size-limited); operators download them.</summary>
public static class ArtifactsApi
{
    private static readonly string[] Kinds = ["screenshot", "log", "archive", "file"];

    public static IEndpointRouteBuilder MapArtifactsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Routes.NodesArtifacts, Upload).WithTags("Nodes").RequireAuthorization(HarnessAuth.AgentPolicy)
            .WithSummary("Upload an artifact of a device task (the raw file as the body); a retry with the same event_id returns the stored artifact.");
        app.MapGet($"{Routes.Artifacts}/{{id:guid}}", Download).WithTags("Runs").RequireAuthorization(HarnessAuth.OperatorPolicy)
            .WithSummary("Download an artifact.");
        return app;
    }

    private static async Task<IResult> Upload(
        HttpContext http, ClaimsPrincipal user, HarnessDbContext db, IArtifactStore store, TimeProvider time,
        IOptions<HarnessServerOptions> options, CancellationToken cancellationToken)
    {
        var q = http.Request.Query;
        var errors = new ValidationErrors();
        var eventId = q[ArtifactUpload.EventId].ToString();
        errors.Required(ArtifactUpload.EventId, eventId, Limits.NameLength);
        if (!Guid.TryParse(q[ArtifactUpload.RunId], out var runId))
        {
            errors.Add(ArtifactUpload.RunId, "required: the run's id");
        }
        var deviceId = q[ArtifactUpload.DeviceId].ToString();
        errors.Required(ArtifactUpload.DeviceId, deviceId, Limits.DeviceIdLength);
        var stepId = q[ArtifactUpload.StepId].ToString() is { Length: > 0 } s ? s : null;
        errors.MaxLength(ArtifactUpload.StepId, stepId, Limits.NameLength);
        var kind = q[ArtifactUpload.Kind].ToString() is { Length: > 0 } k ? k : "screenshot";
        if (!Kinds.Contains(kind))
        {
            errors.Add(ArtifactUpload.Kind, $"must be one of {string.Join(", ", Kinds)}");
        }
        DateTimeOffset? takenAt = null;
        if (q[ArtifactUpload.TakenAt].ToString() is { Length: > 0 } t)
        {
            if (DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                takenAt = parsed.ToUniversalTime();
            }
            else
            {
                errors.Add(ArtifactUpload.TakenAt, "must be an ISO-8601 time");
            }
        }
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        var max = options.Value.Artifacts.MaxBytes;
        if (http.Request.ContentLength > max)
        {
            return ArtifactSpool.TooLarge(max);
        }

        var existing = await db.Artifacts.AsNoTracking().SingleOrDefaultAsync(a => a.EventId == eventId, cancellationToken);
        if (existing is not null)
        {
            return TypedResults.Ok(RunViews.ToView(existing));
        }
        var state = await db.RunDeviceStates.AsNoTracking().SingleOrDefaultAsync(x => x.RunId == runId && x.DeviceId == deviceId, cancellationToken);
        if (state is null)
        {
            return Problems.Field(StatusCodes.Status400BadRequest, "Unknown task", ArtifactUpload.DeviceId, $"device '{deviceId}' is not part of run {runId}");
        }
        if (state.AgentId != user.AgentId())
        {
            return Problems.Forbidden(ArtifactUpload.DeviceId, $"device '{deviceId}' is driven by node '{state.NodeId}'; an agent may upload only for its own devices");
        }
        var run = await db.Runs.AsNoTracking().SingleAsync(r => r.Id == runId, cancellationToken);

        // The body is spooled (hashed and counted) first, so nothing reaches the store unless it is whole and within the limit.
        await using var spooled = await ArtifactSpool.ReadAsync(http, max, cancellationToken);
        if (spooled is null)
        {
            return ArtifactSpool.TooLarge(max);
        }
        var now = time.GetUtcNow();
        var contentType = http.Request.ContentType is { Length: > 0 and <= 128 } ct ? ct.Split(';')[0].Trim() : null;
        var extension = ArtifactPaths.Extension(kind, contentType);
        string path;
        var collision = 0;
        do
        {
            path = ArtifactPaths.For(run.Subject, state.NodeId ?? user.AgentName(), deviceId, runId, takenAt ?? now, extension, collision++);
        }
        while (await store.ExistsAsync(path, cancellationToken) || await db.Artifacts.AnyAsync(a => a.StoragePath == path, cancellationToken));
        await using (var content = spooled.OpenRead())
        {
            await store.SaveAsync(path, content, cancellationToken);
        }
        var artifact = new ArtifactEntity
        {
            Id = Guid.NewGuid(), Kind = kind, ContentType = contentType ?? (kind == "screenshot" ? "image/png" : "application/octet-stream"),
            Size = spooled.Size, Sha256 = spooled.Sha256, StoragePath = path, RunId = runId, DeviceId = deviceId, StepId = stepId, EventId = eventId, CreatedAt = now,
        };
        db.Artifacts.Add(artifact);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The same upload raced itself; the first one won (its file stays, this one's is orphaned).
            var raced = await db.Artifacts.AsNoTracking().SingleOrDefaultAsync(a => a.EventId == eventId, cancellationToken);
            if (raced is null)
            {
                throw;
            }
            return TypedResults.Ok(RunViews.ToView(raced));
        }
        return TypedResults.Created($"{Routes.Artifacts}/{artifact.Id}", RunViews.ToView(artifact));
    }

    private static async Task<IResult> Download(Guid id, HarnessDbContext db, IArtifactStore store, CancellationToken cancellationToken)
    {
        var artifact = await db.Artifacts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (artifact is null)
        {
            return Problems.NotFound($"id: no artifact '{id}'");
        }
        var stream = await store.OpenReadAsync(artifact.StoragePath, cancellationToken);
        return stream is null
            ? Problems.NotFound($"id: artifact '{id}' is recorded but its file is gone from the store ({artifact.StoragePath})")
            : TypedResults.Stream(stream, artifact.ContentType ?? "application/octet-stream", Path.GetFileName(artifact.StoragePath));
    }
}
