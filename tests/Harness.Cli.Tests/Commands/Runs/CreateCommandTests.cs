using System.Net;
using System.Text.Json;
using Harness.Cli.Tests.Operator;
using Harness.Contracts;
using Harness.Contracts.Runs;
using Harness.Contracts.Workflows;

namespace Harness.Cli.Tests.Commands.Runs;

public sealed class CreateCommandTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public CreateCommandTests()
    {
        _cli.Api.OnJson<IReadOnlyList<WorkflowView>>("GET", Routes.Workflows,
            [new(RunData.WorkflowId, "login-and-capture", 3, null, 6, CliRunner.Start, CliRunner.Start)], StubApi.Wire.IReadOnlyListWorkflowView);
        _cli.Api.OnJson("POST", Routes.Runs,
            new RunCreatedResponse(RunData.RunId, RunData.WorkflowId, 3, null, null, RunStatus.Queued, RunData.Counts(RunData.Fleet(4, (4, "skipped_offline", null)))),
            StubApi.Wire.RunCreatedResponse, HttpStatusCode.Created);
    }

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Create_EveryOption_BuildsTheRequest()
    {
        var result = await _cli.RunAsync("runs", "create", "--workflow", "login-and-capture", "--version", "2", "--nodes", "PC-01, PC-02",
            "--concurrency", "5", "--var", "user=alice", "--var", "pass=a=b", "--subject", "build-7", "--seed", "42");

        Assert.Equal(0, result.Exit);
        using var body = JsonDocument.Parse(_cli.Api.Single("POST", Routes.Runs).Body!);
        var root = body.RootElement;
        Assert.Equal(RunData.WorkflowId, root.GetProperty("workflow_id").GetGuid());
        Assert.Equal(2, root.GetProperty("version").GetInt32());
        Assert.Equal(["PC-01", "PC-02"], root.GetProperty("target").GetProperty("node_ids").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(5, root.GetProperty("concurrency").GetInt32());
        Assert.Equal("alice", root.GetProperty("vars").GetProperty("user").GetString());
        Assert.Equal("a=b", root.GetProperty("vars").GetProperty("pass").GetString());
        Assert.Equal("build-7", root.GetProperty("subject").GetString());
        Assert.Equal(42, root.GetProperty("seed").GetInt64());
        Assert.False(root.TryGetProperty("playbook_id", out _));
        Assert.StartsWith($"Created run {RunData.RunId} of login-and-capture v3 on 4 devices: queued 3  skipped_offline 1", result.Lines[0]);
        Assert.Contains($"harness runs show {RunData.RunId} --follow", result.Out);
    }

    [Fact]
    public async Task Create_NoTargetFlag_TargetsAll()
    {
        await _cli.RunAsync("runs", "create", "--workflow", "login-and-capture");

        using var body = JsonDocument.Parse(_cli.Api.Single("POST", Routes.Runs).Body!);
        Assert.True(body.RootElement.GetProperty("target").GetProperty("all").GetBoolean());
        Assert.False(body.RootElement.TryGetProperty("version", out _));
    }

    [Theory]
    [InlineData("--devices", "A,B", "device_ids", "[\"A\",\"B\"]")]
    [InlineData("--index-range", "1-50", "index_range", "\"1-50\"")]
    [InlineData("--label", "model=pixel", "labels", "{\"model\":\"pixel\"}")]
    [InlineData("--all", null, "all", "true")]
    public async Task Create_TargetFlag_SetsThatTargetOnly(string flag, string? value, string field, string json)
    {
        string[] args = value is null ? ["runs", "create", "--workflow", "login-and-capture", flag] : ["runs", "create", "--workflow", "login-and-capture", flag, value];

        Assert.Equal(0, (await _cli.RunAsync(args)).Exit);

        using var body = JsonDocument.Parse(_cli.Api.Single("POST", Routes.Runs).Body!);
        var target = body.RootElement.GetProperty("target");
        Assert.Equal(json, target.GetProperty(field).GetRawText());
        Assert.Single(target.EnumerateObject());
    }

    [Fact]
    public async Task Create_RepeatedLabels_AllSent()
    {
        await _cli.RunAsync("runs", "create", "--workflow", "login-and-capture", "--label", "model=pixel", "--label", "site=seoul");

        using var body = JsonDocument.Parse(_cli.Api.Single("POST", Routes.Runs).Body!);
        Assert.Equal("""{"model":"pixel","site":"seoul"}""", body.RootElement.GetProperty("target").GetProperty("labels").GetRawText());
    }

    [Fact]
    public async Task Create_WorkflowId_WhenNoWorkflowHasThatName()
    {
        var id = Guid.NewGuid();

        await _cli.RunAsync("runs", "create", "--workflow", id.ToString());

        using var body = JsonDocument.Parse(_cli.Api.Single("POST", Routes.Runs).Body!);
        Assert.Equal(id, body.RootElement.GetProperty("workflow_id").GetGuid());
    }

    [Fact]
    public async Task Create_Playbook_SendsPlaybookAndSeed_WithoutResolvingAWorkflow()
    {
        var id = Guid.NewGuid();

        await _cli.RunAsync("runs", "create", "--playbook", id.ToString(), "--seed", "7");

        using var body = JsonDocument.Parse(_cli.Api.Single("POST", Routes.Runs).Body!);
        Assert.Equal(id, body.RootElement.GetProperty("playbook_id").GetGuid());
        Assert.Equal(7, body.RootElement.GetProperty("seed").GetInt64());
        Assert.DoesNotContain(_cli.Api.Requests, r => r.PathAndQuery.StartsWith(Routes.Workflows, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("give either --workflow NAME|ID or --playbook ID")]
    [InlineData("give either --workflow NAME|ID or --playbook ID", "--workflow", "a", "--playbook", "11111111-2222-4333-8444-555555555555")]
    [InlineData("choose one target, not --nodes and --devices", "--workflow", "a", "--nodes", "PC-01", "--devices", "X")]
    [InlineData("choose one target, not --all and --label", "--workflow", "a", "--all", "--label", "k=v")]
    [InlineData("--index-range '50-1'", "--workflow", "a", "--index-range", "50-1")]
    [InlineData("--index-range 'abc'", "--workflow", "a", "--index-range", "abc")]
    [InlineData("--index-range '0-5'", "--workflow", "a", "--index-range", "0-5")]
    [InlineData("--var 'user'", "--workflow", "a", "--var", "user")]
    [InlineData("--var '=x'", "--workflow", "a", "--var", "=x")]
    [InlineData("--label 'pixel'", "--workflow", "a", "--label", "pixel")]
    [InlineData("--concurrency must be 1 or more", "--workflow", "a", "--concurrency", "0")]
    [InlineData("--version must be 1 or more", "--workflow", "a", "--version", "0")]
    [InlineData("--version applies to --workflow only", "--playbook", "11111111-2222-4333-8444-555555555555", "--version", "2")]
    [InlineData("--nodes: give at least one id", "--workflow", "a", "--nodes", ",")]
    [InlineData("--playbook 'not-a-guid': not an id", "--playbook", "not-a-guid")]
    [InlineData("--seed 'many': not a whole number", "--workflow", "a", "--seed", "many")]
    [InlineData("--concurrency '1.5': not a whole number", "--workflow", "a", "--concurrency", "1.5")]
    [InlineData("--bogus", "--workflow", "a", "--bogus")]
    public async Task Create_BadInput_ClearErrorNonZeroExit_NothingSent(string error, params string[] args)
    {
        var result = await _cli.RunAsync(["runs", "create", .. args]);

        Assert.NotEqual(0, result.Exit);
        Assert.Contains(error, result.Error);
        Assert.Empty(_cli.Api.Requests);
    }

    [Fact]
    public async Task Create_ServerRefusesTarget_PrintsTheFieldError()
    {
        var cli = new CliRunner();
        cli.Api.OnProblem("POST", Routes.Runs, HttpStatusCode.BadRequest, "The request is invalid", "target.node_ids[0]: unknown node PC-99",
            """{"target.node_ids[0]":["unknown node PC-99"]}""");

        var result = await cli.RunAsync("runs", "create", "--playbook", Guid.NewGuid().ToString(), "--nodes", "PC-99");

        Assert.Equal(1, result.Exit);
        Assert.Contains("  target.node_ids[0]: unknown node PC-99", result.Error);
        cli.Dispose();
    }

    [Fact]
    public async Task Create_Json_PrintsTheCreatedRun()
    {
        var result = await _cli.RunAsync("runs", "create", "--workflow", "login-and-capture", "--json");

        using var json = JsonDocument.Parse(result.Out);
        Assert.Equal(RunData.RunId, json.RootElement.GetProperty("run_id").GetGuid());
    }
}
