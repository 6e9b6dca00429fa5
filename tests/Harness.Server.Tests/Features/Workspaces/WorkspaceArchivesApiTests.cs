using System.Net;
using System.Security.Cryptography;
using Harness.Contracts.Runtime;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Workspaces;
using Harness.Testing;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Tests.Features.Workspaces;

public abstract class WorkspaceArchivesApiTests(string provider) : WorkspaceTest(provider)
{
    protected override IDictionary<string, string?> Configuration =>
        new Dictionary<string, string?> { ["Harness:Workspaces:MaxArchiveBytes"] = "4096" };

    private async Task<WorkspaceArchiveEntity> SeedArchiveAsync(Guid agentId, Guid? restoreAgentId = null)
    {
        var workspaceId = Guid.NewGuid();
        var archive = new WorkspaceArchiveEntity
        {
            Id = Guid.NewGuid(), WorkspaceId = workspaceId, AgentId = agentId, RestoreAgentId = restoreAgentId,
            Status = WorkspaceArchiveStatus.Pending, CreatedAt = Server.Time.GetUtcNow(), StoragePath = "",
        };
        archive.StoragePath = WorkspaceArchives.StoragePath(workspaceId, archive.Id);
        await QueryAsync(db =>
        {
            db.WorkspaceArchives.Add(archive);
            return db.SaveChangesAsync();
        });
        return archive;
    }

    private async Task<HttpResponseMessage> UploadAsync(string apiKey, string archiveId, byte[] bytes)
    {
        using var agent = Server.Agent(apiKey);
        return await agent.PutAsync(RuntimeRoutes.NodeArchive(archiveId), new ByteArrayContent(bytes));
    }

    [Fact]
    public async Task Upload_ByTheAskedAgent_StoresWithSha256_ThenDownloadOnlyByRestoreAgent()
    {
        var owner = await RegisterWorkspaceAgentAsync("owner");
        var restorer = await RegisterWorkspaceAgentAsync("restorer");
        var archive = await SeedArchiveAsync(owner.Agent.Id);
        var bytes = RandomNumberGenerator.GetBytes(1000);

        var uploaded = await UploadAsync(owner.ApiKey, archive.Id.ToString(), bytes);

        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
        var stored = await QueryAsync(db => db.WorkspaceArchives.AsNoTracking().SingleAsync(a => a.Id == archive.Id));
        Assert.Equal(WorkspaceArchiveStatus.Stored, stored.Status);
        Assert.Equal(1000, stored.Bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), stored.Sha256);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(Server.ArtifactsRoot, stored.StoragePath)));
        await AssertProblemAsync(await UploadAsync(owner.ApiKey, archive.Id.ToString(), bytes), HttpStatusCode.Conflict, "archive_id");

        using (var asOwner = Server.Agent(owner.ApiKey))
        {
            // Nobody restores it yet: not even the agent that made it may read it.
            await AssertProblemAsync(await asOwner.GetAsync(RuntimeRoutes.NodeArchive(archive.Id.ToString())), HttpStatusCode.Forbidden, "archive_id");
        }
        await QueryAsync(db => db.WorkspaceArchives.Where(a => a.Id == archive.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.RestoreAgentId, restorer.Agent.Id)));
        using var asRestorer = Server.Agent(restorer.ApiKey);
        var download = await asRestorer.GetAsync(RuntimeRoutes.NodeArchive(archive.Id.ToString()));
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(bytes, await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Upload_ByAnotherAgent_Is403_Unknown_Is404_TooLarge_Is413()
    {
        var owner = await RegisterWorkspaceAgentAsync("owner");
        var other = await RegisterWorkspaceAgentAsync("other");
        var archive = await SeedArchiveAsync(owner.Agent.Id);

        await AssertProblemAsync(await UploadAsync(other.ApiKey, archive.Id.ToString(), [1, 2, 3]), HttpStatusCode.Forbidden, "archive_id");
        await AssertProblemAsync(await UploadAsync(owner.ApiKey, Guid.NewGuid().ToString(), [1, 2, 3]), HttpStatusCode.NotFound, "archive_id");
        await AssertProblemAsync(await UploadAsync(owner.ApiKey, "not-a-guid", [1, 2, 3]), HttpStatusCode.NotFound, "archive_id");
        await AssertProblemAsync(await UploadAsync(owner.ApiKey, archive.Id.ToString(), new byte[5000]), HttpStatusCode.RequestEntityTooLarge, "body");

        var row = await QueryAsync(db => db.WorkspaceArchives.AsNoTracking().SingleAsync(a => a.Id == archive.Id));
        Assert.Equal(WorkspaceArchiveStatus.Pending, row.Status);
        Assert.False(File.Exists(Path.Combine(Server.ArtifactsRoot, row.StoragePath)));
        using var asOther = Server.Agent(other.ApiKey);
        await AssertProblemAsync(await asOther.GetAsync(RuntimeRoutes.NodeArchive(Guid.NewGuid().ToString())), HttpStatusCode.NotFound, "archive_id");
    }

    [Fact]
    public async Task Archives_RefuseOperators()
    {
        var owner = await RegisterWorkspaceAgentAsync("owner");
        var archive = await SeedArchiveAsync(owner.Agent.Id);
        using var admin = Server.Operator();

        var response = await admin.PutAsync(RuntimeRoutes.NodeArchive(archive.Id.ToString()), new ByteArrayContent([1]));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}

public sealed class WorkspaceArchivesApiTests_Sqlite() : WorkspaceArchivesApiTests(Providers.Sqlite);

public sealed class WorkspaceArchivesApiTests_Postgres() : WorkspaceArchivesApiTests(Providers.Postgres);
