using System.Security.Claims;
using System.Security.Cryptography;
using Harness.Contracts.Runtime;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Artifacts;
using Harness.Server.Http;
using Harness.Server.Security;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Workspaces;

/// <summary>
/// Where agents put and fetch workspace archives (<c>/api/nodes/archives/{archive_id}</c>, agent key auth).
/// An agent may upload only an archive the server asked it for, and download only one it restores.
/// </summary>
public static class WorkspaceArchivesApi
{
    public static IEndpointRouteBuilder MapWorkspaceArchivesApi(this IEndpointRouteBuilder app)
    {
        var archives = app.MapGroup(RuntimeRoutes.NodeArchives).WithTags("Nodes").RequireAuthorization(HarnessAuth.AgentPolicy);
        archives.MapPut("/{archiveId}", Upload)
            .WithSummary("The agent uploads a workspace archive it was asked for (the tar.gz as the body); size-limited, sha256 recorded.");
        archives.MapGet("/{archiveId}", Download)
            .WithSummary("The agent a restore is placed on downloads the archive.");
        return app;
    }

    private static async Task<IResult> Upload(
        string archiveId, HttpContext http, ClaimsPrincipal user, HarnessDbContext db, IArtifactStore store, TimeProvider time,
        IOptions<HarnessServerOptions> options, CancellationToken cancellationToken)
    {
        var archive = await FindAsync(db, archiveId, cancellationToken);
        if (archive is null)
        {
            return NotFound(archiveId);
        }
        if (archive.AgentId != user.AgentId())
        {
            return Problems.Forbidden("archive_id", $"archive {archiveId} was asked of another agent; an agent uploads only the archives the server asked it for");
        }
        if (archive.Status != WorkspaceArchiveStatus.Pending)
        {
            return Problems.Conflict("archive_id", $"archive {archiveId} is {archive.Status} already; an archive is uploaded once");
        }
        var max = options.Value.Workspaces.MaxArchiveBytes;
        if (http.Request.ContentLength > max)
        {
            return TooLarge(max);
        }
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = max + 1;
        }
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var body = new MeteredStream(http.Request.Body, hash, max);
        try
        {
            // The store writes to a temporary name and renames it when whole: a cut or oversized upload leaves nothing.
            await store.SaveAsync(archive.StoragePath, body, cancellationToken);
        }
        catch (ArchiveTooLargeException)
        {
            return TooLarge(max);
        }
        catch (IOException) when (!http.RequestAborted.IsCancellationRequested)
        {
            // The body was read whole but the file is there already: a retry of an upload that was stored
            // and not recorded. The first copy stands.
            if (!await store.ExistsAsync(archive.StoragePath, cancellationToken))
            {
                throw;
            }
        }
        archive.Status = WorkspaceArchiveStatus.Stored;
        archive.Bytes = body.Length;
        archive.Sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
        archive.StoredAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created(RuntimeRoutes.NodeArchive(archiveId),
            new ArchiveJobResult(archive.WorkspaceId.ToString("D"), archive.Id.ToString("D"), archive.Status, archive.Bytes, archive.Sha256, archive.CreatedAt, archive.StoredAt));
    }

    private static async Task<IResult> Download(string archiveId, ClaimsPrincipal user, HarnessDbContext db, IArtifactStore store, CancellationToken cancellationToken)
    {
        var archive = await FindAsync(db, archiveId, cancellationToken);
        if (archive is null || archive.Status != WorkspaceArchiveStatus.Stored)
        {
            return NotFound(archiveId);
        }
        if (archive.RestoreAgentId != user.AgentId())
        {
            return Problems.Forbidden("archive_id", $"archive {archiveId} is being restored by another agent (or by none); an agent downloads only the archive it restores");
        }
        var stream = await store.OpenReadAsync(archive.StoragePath, cancellationToken);
        return stream is null
            ? Problems.NotFound($"archive_id: archive {archiveId} is recorded but its file is gone from the store ({archive.StoragePath})")
            : TypedResults.Stream(stream, "application/gzip", $"{archive.Id:D}.tar.gz");
    }

    private static async Task<WorkspaceArchiveEntity?> FindAsync(HarnessDbContext db, string archiveId, CancellationToken cancellationToken) =>
        Guid.TryParse(archiveId, out var id) ? await db.WorkspaceArchives.SingleOrDefaultAsync(a => a.Id == id, cancellationToken) : null;

    private static ProblemHttpResult NotFound(string archiveId) =>
        Problems.Field(StatusCodes.Status404NotFound, "Not found", "archive_id", $"no archive '{archiveId}' awaits this agent");

    private static ProblemHttpResult TooLarge(long max) =>
        Problems.Field(StatusCodes.Status413PayloadTooLarge, "Archive too large", "body", $"workspace archives are limited to {max} bytes (MAX_WORKSPACE_ARCHIVE_BYTES)");

    private sealed class ArchiveTooLargeException() : IOException("the archive exceeds the size limit");

    /// <summary>Reads the request body, hashing and counting it, and fails once it passes the limit.</summary>
    private sealed class MeteredStream(Stream inner, IncrementalHash hash, long max) : Stream
    {
        private long _length;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            return Count(buffer.Span[..read]);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(ReadOnlySpan<byte> read)
        {
            _length += read.Length;
            if (_length > max)
            {
                throw new ArchiveTooLargeException();
            }
            hash.AppendData(read);
            return read.Length;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
