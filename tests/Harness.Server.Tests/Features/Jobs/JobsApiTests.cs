using System.Net;
using System.Net.Http.Json;
using Harness.Contracts;
using Harness.Server.Data.Entities;
using Harness.Testing;

namespace Harness.Server.Tests.Features.Jobs;

public abstract class JobsApiTests(string provider) : ApiTest(provider)
{
    private async Task<List<Guid>> SeedJobsAsync(int count)
    {
        var start = Server.Time.GetUtcNow();
        var jobs = Enumerable.Range(0, count).Select(i => new JobEntity
        {
            Id = Guid.NewGuid(),
            Type = i % 2 == 0 ? "sandbox" : "archive",
            Status = i % 3 == 0 ? "succeeded" : "queued",
            // Two jobs share each timestamp, so paging must break ties by id.
            CreatedAt = start.AddSeconds(i / 2),
        }).ToList();
        await QueryAsync(async db =>
        {
            db.Jobs.AddRange(jobs);
            return await db.SaveChangesAsync();
        });
        return jobs.OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id).Select(j => j.Id).ToList();
    }

    [Theory]
    [InlineData(Routes.Jobs)]
    [InlineData(Routes.ApiJobs)]
    public async Task List_PagesNewestFirst_VisitingEveryJobOnce(string route)
    {
        var expected = await SeedJobsAsync(7);
        using var admin = Server.Operator();
        var seen = new List<Guid>();
        string? cursor = null;
        var pages = 0;

        do
        {
            var page = (await admin.GetFromJsonAsync($"{route}?limit=3{(cursor is null ? "" : $"&cursor={cursor}")}", Json.PageJobView))!;
            seen.AddRange(page.Items.Select(j => j.Id));
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task List_FiltersByStatusAndType()
    {
        await SeedJobsAsync(6);
        using var admin = Server.Operator();

        var page = (await admin.GetFromJsonAsync($"{Routes.Jobs}?status=succeeded&type=sandbox", Json.PageJobView))!;

        Assert.All(page.Items, j => Assert.Equal(("succeeded", "sandbox"), (j.Status, j.Type)));
        Assert.Single(page.Items);
        Assert.Null(page.NextCursor);
    }

    [Theory]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=abc", "limit")]
    [InlineData("?limit=100000", "limit")]
    [InlineData("?cursor=not-a-cursor", "cursor")]
    [InlineData("?cursor=MTIzOmFiYw", "cursor")]
    public async Task List_BadQuery_Returns400NamingParameter(string query, string field)
    {
        using var admin = Server.Operator();

        var response = await admin.GetAsync(Routes.Jobs + query);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task List_WithoutToken_Returns401()
    {
        using var anonymous = Server.Anonymous();

        var response = await anonymous.GetAsync(Routes.Jobs);

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "authorization");
    }
}

public sealed class JobsApiTests_Sqlite() : JobsApiTests(Providers.Sqlite);

public sealed class JobsApiTests_Postgres() : JobsApiTests(Providers.Postgres);
