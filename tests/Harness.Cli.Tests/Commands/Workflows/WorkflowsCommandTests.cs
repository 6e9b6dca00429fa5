using System.Net;
using System.Text.Json;
using Harness.Cli.Tests.Operator;
using Harness.Contracts;
using Harness.Contracts.Workflows;

namespace Harness.Cli.Tests.Commands.Workflows;

public sealed class WorkflowsCommandTests : IDisposable
{
    private static readonly Guid Id = Guid.Parse("11111111-2222-4333-8444-555555555555");
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Push_SendsTheFileAsWritten_AndPrintsNameVersionAndId()
    {
        var file = Path.Combine(_cli.Directory, "wf.json");
        const string json = """{ "name": "login-and-capture", "steps": [ { "id": "pre", "type": "preflight" } ], "extra": 1 }""";
        await File.WriteAllTextAsync(file, json);
        _cli.Environment["HARNESS_TOKEN"] = "hop_env";
        _cli.Api.OnJson("POST", Routes.Workflows, new WorkflowCreatedResponse(Id, "login-and-capture", 3), StubApi.Wire.WorkflowCreatedResponse, HttpStatusCode.Created);

        var result = await _cli.RunAsync("workflows", "push", "wf.json");

        Assert.Equal(0, result.Exit);
        Assert.Equal($"Pushed login-and-capture v3 (workflow_id {Id})", Assert.Single(result.Lines));
        var request = _cli.Api.Single("POST", Routes.Workflows);
        Assert.Equal(json, request.Body);
        Assert.Equal("Bearer hop_env", request.Authorization);
    }

    [Fact]
    public async Task Push_ValidationProblem_PrintsEveryFieldErrorAndExits1()
    {
        var file = Path.Combine(_cli.Directory, "wf.json");
        await File.WriteAllTextAsync(file, """{ "name": "x", "steps": [] }""");
        _cli.Api.OnProblem("POST", Routes.Workflows, HttpStatusCode.BadRequest, "The request is invalid",
            "steps[3].params.package: required; name: must be at most 100 characters",
            """{"steps[3].params.package":["required"],"name":["must be at most 100 characters"]}""");

        var result = await _cli.RunAsync("workflows", "push", file);

        Assert.Equal(1, result.Exit);
        Assert.Contains("harness: 400 The request is invalid", result.Error);
        Assert.Contains("  steps[3].params.package: required", result.Error);
        Assert.Contains("  name: must be at most 100 characters", result.Error);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task Push_FileThatIsNotJson_SaysWhereAndSendsNothing()
    {
        await File.WriteAllTextAsync(Path.Combine(_cli.Directory, "bad.json"), "{\n  \"name\": \"x\",\n  steps: []\n}");

        var result = await _cli.RunAsync("workflows", "push", "bad.json");

        Assert.Equal(1, result.Exit);
        Assert.Contains("bad.json: not valid JSON (line 3", result.Error);
        Assert.Empty(_cli.Api.Requests);
    }

    [Fact]
    public async Task Push_MissingFile_SaysSo()
    {
        var result = await _cli.RunAsync("workflows", "push", "nope.json");

        Assert.Equal(1, result.Exit);
        Assert.Contains("nope.json: no such file.", result.Error);
    }

    [Fact]
    public async Task Push_WithoutFile_IsAParseError()
    {
        var result = await _cli.RunAsync("workflows", "push");

        Assert.NotEqual(0, result.Exit);
        Assert.Contains("Required argument missing for command: 'push'", result.Error);
    }

    [Fact]
    public async Task List_PrintsATableByName()
    {
        _cli.Api.OnJson<IReadOnlyList<WorkflowView>>("GET", Routes.Workflows,
            [View("zeta", 1), View("login-and-capture", 3)], StubApi.Wire.IReadOnlyListWorkflowView);

        var result = await _cli.RunAsync("workflows", "list");

        Assert.Equal(0, result.Exit);
        Assert.StartsWith("NAME", result.Lines[0]);
        Assert.StartsWith("login-and-capture  v3", result.Lines[1]);
        Assert.StartsWith("zeta", result.Lines[2]);
    }

    [Fact]
    public async Task List_Json_PrintsTheWireFormat()
    {
        _cli.Api.OnJson<IReadOnlyList<WorkflowView>>("GET", Routes.Workflows, [View("login-and-capture", 3)], StubApi.Wire.IReadOnlyListWorkflowView);

        var result = await _cli.RunAsync("workflows", "list", "--json");

        using var json = JsonDocument.Parse(result.Out);
        Assert.Equal(3, json.RootElement[0].GetProperty("latest_version").GetInt32());
    }

    [Fact]
    public async Task Show_ByName_ResolvesExactly_AndShowsTheLatestVersionsSteps()
    {
        _cli.Api.OnJson<IReadOnlyList<WorkflowView>>("GET", Routes.Workflows,
            [View("login-and-capture-2", 9), View("login-and-capture", 3)], StubApi.Wire.IReadOnlyListWorkflowView);
        _cli.Api.OnJson<IReadOnlyList<WorkflowVersionView>>("GET", $"{Routes.Workflows}/{Id}/versions", [Version(1), Version(2), Version(3)], StubApi.Wire.IReadOnlyListWorkflowVersionView);
        _cli.Api.OnJson("GET", $"{Routes.Workflows}/{Id}/versions/3", Version(3), StubApi.Wire.WorkflowVersionView);

        var result = await _cli.RunAsync("workflows", "show", "login-and-capture");

        Assert.Equal(0, result.Exit);
        Assert.Equal($"login-and-capture v3 (workflow_id {Id})", result.Lines[0]);
        Assert.Contains(result.Lines, l => l.Contains("launch_app") && l.Contains("package=com.example.app"));
        Assert.Contains("Versions: v1, v2, v3", result.Out);
        Assert.Contains("?name=login-and-capture", _cli.Api.Requests[0].PathAndQuery);
    }

    [Fact]
    public async Task Show_ById_WithVersion_FetchesThatVersion()
    {
        _cli.Api.OnJson<IReadOnlyList<WorkflowView>>("GET", Routes.Workflows, [], StubApi.Wire.IReadOnlyListWorkflowView);
        _cli.Api.OnJson<IReadOnlyList<WorkflowVersionView>>("GET", $"{Routes.Workflows}/{Id}/versions", [Version(1), Version(2)], StubApi.Wire.IReadOnlyListWorkflowVersionView);
        _cli.Api.OnJson("GET", $"{Routes.Workflows}/{Id}/versions/1", Version(1), StubApi.Wire.WorkflowVersionView);

        var result = await _cli.RunAsync("workflows", "show", Id.ToString(), "--version", "1");

        Assert.Equal(0, result.Exit);
        Assert.Equal($"login-and-capture v1 (workflow_id {Id})", result.Lines[0]);
    }

    [Fact]
    public async Task Show_UnknownName_SaysHowToFindOne()
    {
        _cli.Api.OnJson<IReadOnlyList<WorkflowView>>("GET", Routes.Workflows, [], StubApi.Wire.IReadOnlyListWorkflowView);

        var result = await _cli.RunAsync("workflows", "show", "nope");

        Assert.Equal(1, result.Exit);
        Assert.Contains("no workflow is named 'nope'", result.Error);
        Assert.Contains("harness workflows list", result.Error);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("x")]
    public async Task Show_BadVersion_IsAParseError(string version)
    {
        var result = await _cli.RunAsync("workflows", "show", "a", "--version", version);

        Assert.NotEqual(0, result.Exit);
        Assert.Contains("--version", result.Error);
        Assert.Empty(_cli.Api.Requests);
    }

    private static WorkflowView View(string name, int latest) =>
        new(name == "login-and-capture" ? Id : Guid.NewGuid(), name, latest, null, 6, CliRunner.Start, CliRunner.Start);

    private static WorkflowVersionView Version(int v) =>
        new(Id, "login-and-capture", v, Example.Load(), "admin", CliRunner.Start);
}
