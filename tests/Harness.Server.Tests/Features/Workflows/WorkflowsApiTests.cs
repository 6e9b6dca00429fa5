using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Workflows;
using Harness.Server.Tests.Features.Runs;
using Harness.Testing;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Tests.Features.Workflows;

public abstract class WorkflowsApiTests(string provider) : RunTest(provider)
{
    private const string Example = """
        { "name": "login-and-capture",
          "defaults": { "step_timeout_ms": 90000, "upload_timeout_ms": 30000 },
          "steps": [
            { "id": "pre", "type": "preflight" },
            { "id": "open", "type": "launch_app", "params": { "package": "com.example.app" } },
            { "id": "user", "type": "input_text", "params": { "text": "{{vars.user}}" }, "on_error": "fail" },
            { "id": "shot", "type": "screenshot", "params": { "name": "home" } },
            { "id": "up", "type": "upload" },
            { "id": "done", "type": "report" } ] }
        """;

    [Fact]
    public async Task Post_SameNameAgain_SavesNextVersion_AndOldVersionIsUnchanged()
    {
        using var admin = Server.Operator();
        var first = await admin.PostAsync(Routes.Workflows, RawJson(Example));
        var second = await admin.PostAsync(Routes.Workflows, RawJson(Example.Replace("com.example.app", "com.example.v2")));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var v1 = (await first.Content.ReadFromJsonAsync(Json.WorkflowCreatedResponse))!;
        var v2 = (await second.Content.ReadFromJsonAsync(Json.WorkflowCreatedResponse))!;
        Assert.Equal((1, 2), (v1.Version, v2.Version));
        Assert.Equal(v1.WorkflowId, v2.WorkflowId);
        var old = (await admin.GetFromJsonAsync($"{Routes.Workflows}/{v1.WorkflowId}/versions/1", Json.WorkflowVersionView))!;
        Assert.Equal("com.example.app", old.Definition.Steps![1].Params!["package"].GetString());
        var latest = (await admin.GetFromJsonAsync($"{Routes.Workflows}/login-and-capture", Json.WorkflowVersionView))!;
        Assert.Equal(2, latest.Version);
        var list = (await admin.GetFromJsonAsync(Routes.Workflows, Json.IReadOnlyListWorkflowView))!;
        var view = Assert.Single(list);
        Assert.Equal((2, 6), (view.LatestVersion, view.Steps));
    }

    [Fact]
    public async Task Post_InvalidWorkflow_ListsEveryErrorByPath_AndStoresNothing()
    {
        using var admin = Server.Operator();
        var response = await admin.PostAsync(Routes.Workflows, RawJson("""
            { "name": "bad name!", "steps": [
              { "id": "a", "type": "launch_app" },
              { "id": "a", "type": "tap", "params": { "x": -1, "y": "ten" } },
              { "type": "teleport" },
              { "id": "t", "type": "input_text", "params": { "text": "{{secrets.pw}}" }, "on_error": "explode", "retries": 99 },
              { "id": "w", "type": "wait", "params": { "ms": 10, "extra": 1 } } ] }
            """));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "steps[0].params.package");
        var errors = problem.GetProperty("errors");
        foreach (var path in new[] { "name", "steps[1].id", "steps[1].params.x", "steps[1].params.y", "steps[2].id", "steps[2].type",
                     "steps[3].params.text", "steps[3].on_error", "steps[3].retries", "steps[4].params.extra" })
        {
            Assert.True(errors.TryGetProperty(path, out _), $"no error for {path}: {errors}");
        }
        Assert.Equal(0, await QueryAsync(db => db.Workflows.CountAsync()));
    }

    [Fact]
    public async Task Post_WithStaleVersion_Is409()
    {
        await PushAsync(Capture);
        using var admin = Server.Operator();
        var response = await admin.PostAsJsonAsync(Routes.Workflows, Capture with { Version = 1 }, Json.WorkflowDefinition);
        await AssertProblemAsync(response, HttpStatusCode.Conflict, "version");
    }

    [Fact]
    public async Task Post_WrongJsonType_Is400NamingTheField()
    {
        using var admin = Server.Operator();
        var response = await admin.PostAsync(Routes.Workflows, RawJson("""{ "name": "x", "steps": "not a list" }"""));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("steps", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Schema_IsPublished_AndNamesEveryStepType()
    {
        using var anonymous = Server.Anonymous();
        var schema = JsonDocument.Parse(await anonymous.GetStringAsync(Routes.WorkflowSchema)).RootElement;
        var types = schema.GetProperty("$defs").GetProperty("step").GetProperty("properties").GetProperty("type").GetProperty("enum")
            .EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(StepTypes.All, types);
    }

    [Fact]
    public async Task UnknownWorkflow_Is404()
    {
        using var admin = Server.Operator();
        var response = await admin.GetAsync($"{Routes.Workflows}/{Guid.NewGuid()}/versions/1");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}

public sealed class WorkflowsApiTests_Sqlite() : WorkflowsApiTests(Providers.Sqlite);

public sealed class WorkflowsApiTests_Postgres() : WorkflowsApiTests(Providers.Postgres);
