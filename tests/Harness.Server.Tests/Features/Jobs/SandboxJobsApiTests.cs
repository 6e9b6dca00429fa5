using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Agents;
using Harness.Contracts.Jobs;
using Harness.Contracts.Nodes;
using Harness.Server.Features.Jobs;
using Harness.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Harness.Server.Tests.Features.Jobs;

/// <summary>The sandbox job API from both sides (operator and agent), on both databases.</summary>
public abstract class SandboxJobsApiTests(string provider) : ApiTest(provider)
{
    private const string Secret = "s3cr3t-value-that-must-never-show";

    private async Task<string> SandboxAgentAsync(string name = "sandbox-1")
    {
        var credential = await RegisterAgentAsync(name, [RuntimeNames.Sandbox]);
        var beat = await HeartbeatAsync(credential.ApiKey, new HeartbeatRequest(Runtimes: [RuntimeNames.Sandbox]));
        Assert.Equal(HttpStatusCode.OK, beat.StatusCode);
        return credential.ApiKey;
    }

    private static CreateJobRequest Request(IReadOnlyDictionary<string, string>? secrets = null) =>
        new(JobTypeNames.Sandbox, "harness-test/sandbox:1", ["sh", "-c", "echo hi"], Secrets: secrets, TimeoutS: 30);

    private async Task<JobDetail> CreateAsync(CreateJobRequest request)
    {
        using var admin = Server.Operator();
        var response = await admin.PostAsJsonAsync(Routes.ApiJobs, request, Json.CreateJobRequest);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        return JsonSerializer.Deserialize(body, Json.JobDetail)!;
    }

    private async Task<ClaimJobsResponse> ClaimAsync(string key, int max = 1, IReadOnlyList<Guid>? running = null)
    {
        using var agent = Server.Agent(key);
        var response = await agent.PostAsJsonAsync(Routes.NodesJobsClaim, new ClaimJobsRequest(max, 0, running), Json.ClaimJobsRequest);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonSerializer.Deserialize(body, Json.ClaimJobsResponse)!;
    }

    private async Task<JobEventsResponse> EventsAsync(string key, Guid job, JobEventsRequest request)
    {
        using var agent = Server.Agent(key);
        var response = await agent.PostAsJsonAsync($"{Routes.NodesJobs}/{job}/events", request, Json.JobEventsRequest);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(Json.JobEventsResponse))!;
    }

    private async Task<JobDetail> CompleteAsync(string key, Guid job, CompleteJobRequest request)
    {
        using var agent = Server.Agent(key);
        var response = await agent.PostAsJsonAsync($"{Routes.NodesJobs}/{job}/complete", request, Json.CompleteJobRequest);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(Json.JobDetail))!;
    }

    private async Task<JobDetail> GetAsync(Guid job)
    {
        using var admin = Server.Operator();
        return (await admin.GetFromJsonAsync($"{Routes.ApiJobs}/{job}", Json.JobDetail))!;
    }

    [Theory]
    [InlineData("""{"image":"x","command":["true"]}""", "type")]
    [InlineData("""{"type":"archive","image":"x","command":["true"]}""", "type")]
    [InlineData("""{"type":"sandbox","command":["true"]}""", "image")]
    [InlineData("""{"type":"sandbox","image":"bad image","command":["true"]}""", "image")]
    [InlineData("""{"type":"sandbox","image":"x"}""", "command")]
    [InlineData("""{"type":"sandbox","image":"x","command":[]}""", "command")]
    [InlineData("""{"type":"sandbox","image":"x","command":[""]}""", "command[0]")]
    [InlineData("""{"type":"sandbox","image":"x","command":["true"],"network":"host"}""", "network")]
    [InlineData("""{"type":"sandbox","image":"x","command":["true"],"timeout_s":0}""", "timeout_s")]
    [InlineData("""{"type":"sandbox","image":"x","command":["true"],"cpu":0}""", "cpu")]
    [InlineData("""{"type":"sandbox","image":"x","command":["true"],"memory_mb":1}""", "memory_mb")]
    [InlineData("""{"type":"sandbox","image":"x","command":["true"],"pids":1}""", "pids")]
    [InlineData("""{"type":"sandbox","image":"x","command":["true"],"env":{"1BAD":"v"}}""", "env.1BAD")]
    [InlineData("""{"type":"sandbox","image":"x","command":["true"],"env":{"HARNESS_JOB_ID":"v"}}""", "env.HARNESS_JOB_ID")]
    [InlineData("""{"type":"sandbox","image":"x","command":["true"],"secrets":{"TOKEN":"abc"}}""", "secrets.TOKEN")]
    [InlineData("""{"type":"sandbox","image":"x","command":["true"],"env":{"A":"1"},"secrets":{"A":"abcdef"}}""", "secrets.A")]
    [InlineData("""{"type":"sandbox","image":"x","command":["true"],"artifacts":["../etc/passwd"]}""", "artifacts[0]")]
    [InlineData("""{"type":"sandbox","image":"x","command":["true"],"artifacts":["/etc/passwd"]}""", "artifacts[0]")]
    [InlineData("""{"type":"sandbox","image":"x","command":["true"],"workspace_id":"nope"}""", "workspace_id")]
    [InlineData("""{"type":"sandbox","image":"x","command":["true"],"timeout_s":"soon"}""", "timeout_s")]
    public async Task Create_BadRequest_Returns4xxNamingTheField(string json, string field)
    {
        await SandboxAgentAsync();
        using var admin = Server.Operator();

        var response = await admin.PostAsync(Routes.ApiJobs, RawJson(json));

        Assert.InRange((int)response.StatusCode, 400, 499);
        await AssertProblemAsync(response, response.StatusCode, field);
        Assert.Equal(0, await QueryAsync(db => db.Jobs.CountAsync()));
    }

    [Fact]
    public async Task Create_WithNoSandboxAgent_Returns409()
    {
        await RegisterAgentAsync("devices-only", [RuntimeNames.Devices]);
        using var admin = Server.Operator();

        var response = await admin.PostAsJsonAsync(Routes.ApiJobs, Request(), Json.CreateJobRequest);

        await AssertProblemAsync(response, HttpStatusCode.Conflict, "type");
    }

    [Fact]
    public async Task Secret_IsAbsentFromResponsesRecordsAndLogs_ButReachesTheClaimingAgent()
    {
        var key = await SandboxAgentAsync();
        var created = await CreateAsync(Request(new Dictionary<string, string> { ["API_TOKEN"] = Secret }));
        Assert.Equal(["API_TOKEN"], created.Spec!.SecretNames);

        var claim = await ClaimAsync(key);
        var claimed = Assert.Single(claim.Jobs);
        Assert.Equal(Secret, claimed.Secrets["API_TOKEN"]);

        // An agent that forgot to mask: the server masks again on the way in.
        await EventsAsync(key, created.Id, new JobEventsRequest(true, "docker",
            [new JobLogLine(0, JobLogStreams.Stdout, $"token is {Secret}!", default), new JobLogLine(1, JobLogStreams.Stderr, "plain line", default)]));
        await CompleteAsync(key, created.Id, new CompleteJobRequest(JobStatusNames.Failed, "exit", 1, $"failed with {Secret}"));

        using var admin = Server.Operator();
        var texts = new List<string>
        {
            await admin.GetStringAsync($"{Routes.ApiJobs}/{created.Id}"),
            await admin.GetStringAsync(Routes.ApiJobs),
            await admin.GetStringAsync(Routes.Jobs),
            await admin.GetStringAsync($"{Routes.ApiJobs}/{created.Id}/logs"),
            await admin.GetStringAsync($"{Routes.ApiJobs}/{created.Id}/logs?format=ndjson"),
        };
        var row = await QueryAsync(db => db.Jobs.AsNoTracking().SingleAsync(j => j.Id == created.Id));
        texts.Add(JsonSerializer.Serialize(row));
        texts.AddRange(await QueryAsync(db => db.JobLogs.Select(l => l.Text).ToListAsync()));
        texts.AddRange(await QueryAsync(db => db.AuditLog.Where(a => a.Details != null).Select(a => a.Details!).ToListAsync()));
        foreach (var text in texts)
        {
            Assert.DoesNotContain(Secret, text);
        }
        Assert.Contains("token is ***!", texts[3]);
        Assert.Null(row.SecretsSealed); // dropped once the job ended
        Assert.Equal("failed with ***", (await GetAsync(created.Id)).LastErrorMessage);
    }

    [Fact]
    public async Task Secrets_AreSealedAtRest_WhileTheJobWaits()
    {
        await SandboxAgentAsync();
        var created = await CreateAsync(Request(new Dictionary<string, string> { ["API_TOKEN"] = Secret }));

        var row = await QueryAsync(db => db.Jobs.AsNoTracking().SingleAsync(j => j.Id == created.Id));

        Assert.NotNull(row.SecretsSealed);
        Assert.DoesNotContain(Secret, row.SecretsSealed);
        Assert.DoesNotContain(Secret, row.Spec);
    }

    [Fact]
    public async Task Claim_GivesAJobToExactlyOneAgent()
    {
        var first = await SandboxAgentAsync("sandbox-1");
        var second = await SandboxAgentAsync("sandbox-2");
        var created = await CreateAsync(Request());

        var a = await ClaimAsync(first, max: 5);
        var b = await ClaimAsync(second, max: 5);

        Assert.Equal(created.Id, Assert.Single(a.Jobs).JobId);
        Assert.Empty(b.Jobs);
        Assert.Equal(JobStatusNames.Dispatched, (await GetAsync(created.Id)).Status);
    }

    [Fact]
    public async Task Claim_ByAnAgentWithoutTheSandboxRuntime_Returns409()
    {
        var credential = await RegisterAgentAsync("devices-only", [RuntimeNames.Devices]);
        using var agent = Server.Agent(credential.ApiKey);

        var response = await agent.PostAsJsonAsync(Routes.NodesJobsClaim, new ClaimJobsRequest(1), Json.ClaimJobsRequest);

        await AssertProblemAsync(response, HttpStatusCode.Conflict, "max");
    }

    [Fact]
    public async Task Lifecycle_StartOutputComplete_IsRecorded_AndRepeatsAreIdempotent()
    {
        var key = await SandboxAgentAsync();
        var created = await CreateAsync(Request());
        await ClaimAsync(key);

        var lines = new List<JobLogLine> { new(0, "stdout", "one", default), new(1, "stdout", "two", default) };
        await EventsAsync(key, created.Id, new JobEventsRequest(true, "bubblewrap", lines));
        await EventsAsync(key, created.Id, new JobEventsRequest(null, null, [.. lines, new JobLogLine(2, "stderr", "three", default)]));
        var running = await GetAsync(created.Id);
        var done = await CompleteAsync(key, created.Id, new CompleteJobRequest(JobStatusNames.Succeeded, "exit", 0));
        var again = await CompleteAsync(key, created.Id, new CompleteJobRequest(JobStatusNames.Failed, "exit", 9));

        Assert.Equal(JobStatusNames.Running, running.Status);
        Assert.Equal("bubblewrap", running.Backend);
        Assert.NotNull(running.DeadlineAt);
        Assert.Equal(JobStatusNames.Succeeded, done.Status);
        Assert.Equal(JobStatusNames.Succeeded, again.Status); // the first report wins
        Assert.Equal(0, again.ExitCode);
        using var admin = Server.Operator();
        Assert.Equal("one\ntwo\nthree\n", await admin.GetStringAsync($"{Routes.ApiJobs}/{created.Id}/logs"));
        Assert.Equal("three\n", await admin.GetStringAsync($"{Routes.ApiJobs}/{created.Id}/logs?after=1"));
    }

    [Fact]
    public async Task Logs_Follow_StreamsUntilTheJobEnds()
    {
        var key = await SandboxAgentAsync();
        var created = await CreateAsync(Request());
        await ClaimAsync(key);
        using var admin = Server.Operator();
        using var follow = new HttpRequestMessage(HttpMethod.Get, $"{Routes.ApiJobs}/{created.Id}/logs?follow=true");
        using var response = await admin.SendAsync(follow, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        await EventsAsync(key, created.Id, new JobEventsRequest(true, "docker", [new JobLogLine(0, "stdout", "first", default)]));
        Assert.Equal("first", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        await EventsAsync(key, created.Id, new JobEventsRequest(null, null, [new JobLogLine(1, "stdout", "second", default)]));
        Assert.Equal("second", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        await CompleteAsync(key, created.Id, new CompleteJobRequest(JobStatusNames.Succeeded, "exit", 0));

        Assert.Null(await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10))); // the stream ends with the job
    }

    [Fact]
    public async Task Cancel_QueuedJob_EndsAtOnce_AndAnEndedJobCannotBeCanceled()
    {
        await SandboxAgentAsync();
        var created = await CreateAsync(Request(new Dictionary<string, string> { ["T"] = Secret }));
        using var admin = Server.Operator();

        var canceled = await admin.PostAsync($"{Routes.ApiJobs}/{created.Id}/cancel", null);
        var again = await admin.PostAsync($"{Routes.ApiJobs}/{created.Id}/cancel", null);

        Assert.Equal(HttpStatusCode.Accepted, canceled.StatusCode);
        var job = await GetAsync(created.Id);
        Assert.Equal(JobStatusNames.Canceled, job.Status);
        Assert.Null(await QueryAsync(db => db.Jobs.Where(j => j.Id == created.Id).Select(j => j.SecretsSealed).SingleAsync()));
        await AssertProblemAsync(again, HttpStatusCode.Conflict, "status");
    }

    [Fact]
    public async Task Cancel_RunningJob_ReachesTheAgentThroughClaimAndEvents()
    {
        var key = await SandboxAgentAsync();
        var created = await CreateAsync(Request());
        await ClaimAsync(key);
        await EventsAsync(key, created.Id, new JobEventsRequest(true, "docker"));
        using var admin = Server.Operator();

        var response = await admin.PostAsync($"{Routes.ApiJobs}/{created.Id}/cancel", null);
        var claim = await ClaimAsync(key, max: 1, running: [created.Id]);
        var events = await EventsAsync(key, created.Id, new JobEventsRequest());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.True((await GetAsync(created.Id)).CancelRequested);
        Assert.Equal([created.Id], claim.Cancel);
        Assert.True(events.CancelRequested);
    }

    [Fact]
    public async Task Sweep_RequeuesAnUnstartedClaim_AndFailsAStartedOne_WhenTheAgentGoesSilent()
    {
        var key = await SandboxAgentAsync();
        var unstarted = await CreateAsync(Request());
        await ClaimAsync(key);
        var started = await CreateAsync(Request());
        await ClaimAsync(key);
        await EventsAsync(key, started.Id, new JobEventsRequest(true, "docker"));

        // The server's own sweeper may wake on the advanced clock too; a sweep is idempotent either way.
        Server.Time.Advance(SandboxJobService.Lease + TimeSpan.FromSeconds(1));
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<SandboxJobService>().SweepAsync(CancellationToken.None);
        }

        var requeued = await GetAsync(unstarted.Id);
        var lost = await GetAsync(started.Id);
        Assert.Equal(JobStatusNames.Queued, requeued.Status);
        Assert.Null(requeued.AgentId);
        Assert.Equal(JobStatusNames.Failed, lost.Status);
        Assert.Equal("agent_lost", lost.Reason);
    }

    [Fact]
    public async Task Events_FromAnotherAgent_Return403()
    {
        var key = await SandboxAgentAsync("sandbox-1");
        var other = await SandboxAgentAsync("sandbox-2");
        var created = await CreateAsync(Request());
        await ClaimAsync(key);
        using var agent = Server.Agent(other);

        var response = await agent.PostAsJsonAsync($"{Routes.NodesJobs}/{created.Id}/events", new JobEventsRequest(true), Json.JobEventsRequest);

        await AssertProblemAsync(response, HttpStatusCode.Forbidden, "id");
    }

    [Fact]
    public async Task Artifacts_UploadedByTheAgent_AreListedAndDownloadable_AndNamesCannotEscape()
    {
        var key = await SandboxAgentAsync();
        var created = await CreateAsync(Request());
        await ClaimAsync(key);
        using var agent = Server.Agent(key);

        var ok = await agent.PutAsync($"{Routes.NodesJobs}/{created.Id}/artifacts?name=out/report.txt", new StringContent("report"));
        var escape = await agent.PutAsync($"{Routes.NodesJobs}/{created.Id}/artifacts?name=../../etc/passwd", new StringContent("x"));

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        await AssertProblemAsync(escape, HttpStatusCode.BadRequest, "name");
        var artifact = Assert.Single((await GetAsync(created.Id)).Artifacts);
        Assert.Equal("out/report.txt", artifact.Name);
        using var admin = Server.Operator();
        Assert.Equal("report", await admin.GetStringAsync(artifact.Url));
    }
}

public sealed class SandboxJobsApiTests_Sqlite() : SandboxJobsApiTests(Providers.Sqlite);

public sealed class SandboxJobsApiTests_Postgres() : SandboxJobsApiTests(Providers.Postgres);
