using System.Net;
using System.Net.Http.Json;
using Harness.Contracts;
using Harness.Contracts.Runs;
using Harness.Contracts.Workflows;
using Harness.Server.Tests.Features.Runs;
using Harness.Testing;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Tests.Features.Playbooks;

public abstract class PlaybooksApiTests(string provider) : RunTest(provider)
{
    private async Task<CommandAssetView> AssetAsync(string name, params WorkflowStep[] steps)
    {
        using var admin = Server.Operator();
        var response = await admin.PostAsJsonAsync(Routes.CommandAssets, new CommandAssetRequest(name, steps), Json.CommandAssetRequest);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync(Json.CommandAssetView))!;
    }

    [Fact]
    public async Task CommandAssets_Crud_AndAUsedAssetCannotBeDeleted()
    {
        var home = await AssetAsync("home", new WorkflowStep("home", StepTypes.KeyEvent, new Dictionary<string, System.Text.Json.JsonElement> { ["key"] = System.Text.Json.JsonSerializer.SerializeToElement("KEYCODE_HOME") }));
        using var admin = Server.Operator();
        var renamed = await admin.PutAsJsonAsync($"{Routes.CommandAssets}/{home.Id}", new CommandAssetRequest("go-home", [new WorkflowStep("pre", StepTypes.Preflight)]), Json.CommandAssetRequest);
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal("go-home", Assert.Single((await admin.GetFromJsonAsync(Routes.CommandAssets, Json.IReadOnlyListCommandAssetView))!).Name);
        await AssertProblemAsync(await admin.PostAsJsonAsync(Routes.CommandAssets, new CommandAssetRequest("go-home", [new WorkflowStep("x", StepTypes.Preflight)]), Json.CommandAssetRequest),
            HttpStatusCode.Conflict, "name");
        await AssertProblemAsync(await admin.PostAsJsonAsync(Routes.CommandAssets, new CommandAssetRequest("bad", [new WorkflowStep("x", "fly")]), Json.CommandAssetRequest),
            HttpStatusCode.BadRequest, "steps[0].type");
        await admin.PostAsJsonAsync(Routes.Playbooks, new PlaybookRequest("pb", [new PlaybookItem(home.Id)]), Json.PlaybookRequest);

        await AssertProblemAsync(await admin.DeleteAsync($"{Routes.CommandAssets}/{home.Id}"), HttpStatusCode.Conflict, "id");
    }

    [Fact]
    public async Task Playbook_CompilesPerDevice_ReproduciblyFromItsSeed()
    {
        var always = await AssetAsync("always", new WorkflowStep("pre", StepTypes.Preflight));
        var coin = await AssetAsync("coin", new WorkflowStep("shot", StepTypes.Screenshot));
        var never = await AssetAsync("never", new WorkflowStep("boot", StepTypes.Reboot));
        using var admin = Server.Operator();
        var created = await admin.PostAsJsonAsync(Routes.Playbooks,
            new PlaybookRequest("mix", [new PlaybookItem(always.Id, 1), new PlaybookItem(coin.Id, 0.5), new PlaybookItem(never.Id, 0)]), Json.PlaybookRequest);
        var playbook = (await created.Content.ReadFromJsonAsync(Json.PlaybookView))!;

        async Task<List<string>> Compile(long seed, string device)
        {
            var response = await admin.PostAsJsonAsync($"{Routes.Playbooks}/{playbook.Id}/compile", new PlaybookCompileRequest(seed, device), Json.PlaybookCompileRequest);
            return (await response.Content.ReadFromJsonAsync(Json.PlaybookCompileResponse))!.Workflow.Steps!.Select(s => s.Id!).ToList();
        }

        Assert.Equal(await Compile(7, "D1"), await Compile(7, "D1"));
        var kept = new HashSet<int>();
        for (var device = 0; device < 40; device++)
        {
            var steps = await Compile(7, $"D{device}");
            Assert.Equal("01-always-pre", steps[0]);
            Assert.DoesNotContain(steps, s => s.Contains("never", StringComparison.Ordinal));
            kept.Add(steps.Count);
        }
        Assert.Equal([1, 2], kept.Order()); // p=0.5 is kept on some devices and not on others

        var key = await FarmAsync("PC-01", 3);
        var run = await admin.PostAsJsonAsync(Routes.Runs, new CreateRunRequest(PlaybookId: playbook.Id, Target: new RunTarget(All: true), Seed: 7), Json.CreateRunRequest);
        var runCreated = (await run.Content.ReadFromJsonAsync(Json.RunCreatedResponse))!;
        Assert.Equal(7, runCreated.Seed);
        var tasks = (await PullAsync(key, 3)).Tasks;
        foreach (var task in tasks)
        {
            Assert.Equal(await Compile(7, task.DeviceId), task.Workflow.Steps!.Select(s => s.Id!).ToList());
        }
        await AssertProblemAsync(await admin.DeleteAsync($"{Routes.Playbooks}/{playbook.Id}"), HttpStatusCode.Conflict, "id");
    }

    [Fact]
    public async Task Playbook_BadItems_Are400NamingTheItem()
    {
        var asset = await AssetAsync("a", new WorkflowStep("pre", StepTypes.Preflight));
        using var admin = Server.Operator();
        var response = await admin.PostAsJsonAsync(Routes.Playbooks,
            new PlaybookRequest("p", [new PlaybookItem(asset.Id, 1.5), new PlaybookItem(Guid.NewGuid())]), Json.PlaybookRequest);
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "items[0].probability");
        Assert.True(problem.GetProperty("errors").TryGetProperty("items[1].asset_id", out _));
        Assert.Equal(0, await QueryAsync(db => db.Playbooks.CountAsync()));
    }
}

public sealed class PlaybooksApiTests_Sqlite() : PlaybooksApiTests(Providers.Sqlite);

public sealed class PlaybooksApiTests_Postgres() : PlaybooksApiTests(Providers.Postgres);
