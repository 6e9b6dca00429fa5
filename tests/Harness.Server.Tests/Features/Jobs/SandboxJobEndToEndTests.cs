using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Agents;
using Harness.Contracts.Jobs;
using Harness.Contracts.Workspaces;
using Harness.Server.Tests.Features.Workspaces;
using Harness.Testing;
using Harness.Testing.Workspaces;

namespace Harness.Server.Tests.Features.Jobs;

/// <summary>
/// Sandbox jobs end to end, once per backend: the API queues, a real agent claims and runs the command in a real
/// Docker container or bubblewrap sandbox, output streams back through <c>GET /api/jobs/{id}/logs?follow=true</c>.
/// </summary>
public abstract class SandboxJobEndToEndTests(string provider) : WorkspaceTest(provider)
{
    private const string Secret = "e2e-Secret-4f1c9a7b";
    private WorkspaceAgent? _agent;
    private readonly string _workDirectory = Directory.CreateTempSubdirectory("harness-sandbox-e2e-").FullName;

    protected abstract string Image { get; }

    protected abstract Task<Dictionary<string, string?>> SandboxConfigurationAsync();

    public override async Task DisposeAsync()
    {
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }
        TempFolder.TryDelete(_workDirectory);
        await base.DisposeAsync();
    }

    private async Task StartAgentAsync()
    {
        var credential = await RegisterWorkspaceAgentAsync("sandbox-e2e", endpoint: null);
        var configuration = await SandboxConfigurationAsync();
        configuration["Agent:Sandbox:WorkDirectory"] = _workDirectory;
        _agent = await WorkspaceAgent.StartAsync(Server.BaseAddress, "sandbox-e2e", credential.ApiKey, configuration);
        await _agent.WaitForRuntimeKeyAsync();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!(await AgentsAsync()).Single(a => a.Name == "sandbox-e2e").Runtimes.Contains(RuntimeNames.Sandbox))
        {
            Assert.True(DateTime.UtcNow < deadline, "the agent never offered the sandbox runtime");
            await Task.Delay(100);
        }
    }

    private async Task<JobDetail> CreateJobAsync(CreateJobRequest request)
    {
        using var admin = Server.Operator();
        var response = await admin.PostAsJsonAsync(Routes.ApiJobs, request, Json.CreateJobRequest);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        Assert.DoesNotContain(Secret, body);
        return JsonSerializer.Deserialize(body, Json.JobDetail)!;
    }

    private CreateJobRequest Shell(string script, int timeoutS = 30, string? workspace = null) =>
        new(JobTypeNames.Sandbox, Image, ["sh", "-c", script], workspace, TimeoutS: timeoutS, MemoryMb: 128, Pids: 64);

    /// <summary>Follows the job's output to its end, as the CLI does; returns the raw NDJSON lines and the final job.</summary>
    private async Task<(List<JobLogLine> Lines, string Raw, JobDetail Job)> FollowAsync(Guid id)
    {
        using var admin = Server.Operator();
        admin.Timeout = TimeSpan.FromSeconds(90);
        var raw = await admin.GetStringAsync($"{Routes.ApiJobs}/{id}/logs?follow=true&format=ndjson");
        var lines = raw.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonSerializer.Deserialize(l, Json.JobLogLine)!).ToList();
        return (lines, raw, await GetJobAsync(id));
    }

    private async Task<JobDetail> GetJobAsync(Guid id)
    {
        using var admin = Server.Operator();
        var body = await admin.GetStringAsync($"{Routes.ApiJobs}/{id}");
        Assert.DoesNotContain(Secret, body);
        return JsonSerializer.Deserialize(body, Json.JobDetail)!;
    }

    private async Task<JobDetail> WaitForStatusAsync(Guid id, Func<string, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = await GetJobAsync(id);
            if (done(job.Status))
            {
                return job;
            }
            Assert.True(DateTime.UtcNow < deadline, $"job {id} still {job.Status}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Job_StreamsItsOutput_MasksItsSecretEverywhere_AndReportsItsExitCode()
    {
        await StartAgentAsync();
        var created = await CreateJobAsync(Shell("echo \"token=$TOKEN\"; echo to-stderr >&2; id -u; exit 7") with
        {
            Secrets = new Dictionary<string, string> { ["TOKEN"] = Secret },
            Env = new Dictionary<string, string> { ["GREETING"] = "hello" },
        });

        var (lines, raw, job) = await FollowAsync(created.Id);

        Assert.Equal(JobStatusNames.Failed, job.Status);
        Assert.Equal("exit", job.Reason);
        Assert.Equal(7, job.ExitCode);
        Assert.Contains(lines, l => l is { Stream: JobLogStreams.Stdout, Text: "token=***" });
        Assert.Contains(lines, l => l is { Stream: JobLogStreams.Stderr, Text: "to-stderr" });
        Assert.Contains(lines, l => l is { Stream: JobLogStreams.Stdout, Text: "1000" });
        Assert.DoesNotContain(Secret, raw);
        using var admin = Server.Operator();
        Assert.DoesNotContain(Secret, await admin.GetStringAsync(Routes.Jobs));
        Assert.DoesNotContain(Secret, await admin.GetStringAsync($"{Routes.ApiJobs}/{created.Id}/logs"));
    }

    [Fact]
    public async Task Job_OverItsTimeout_IsKilledAndTimedOut()
    {
        await StartAgentAsync();
        var created = await CreateJobAsync(Shell("echo started; sleep 60", timeoutS: 2));

        var (lines, _, job) = await FollowAsync(created.Id);

        Assert.Equal(JobStatusNames.TimedOut, job.Status);
        Assert.Equal("timeout", job.Reason);
        Assert.Contains(lines, l => l.Text == "started");
        Assert.Contains(lines, l => l.Stream == JobLogStreams.System && l.Text.Contains("timeout", StringComparison.Ordinal));
        Assert.True(job.FinishedAt - job.StartedAt < TimeSpan.FromSeconds(20), $"{job.StartedAt} → {job.FinishedAt}");
    }

    [Fact]
    public async Task Job_Canceled_StopsWithinSeconds()
    {
        await StartAgentAsync();
        var created = await CreateJobAsync(Shell("echo started; sleep 120"));
        await WaitForStatusAsync(created.Id, s => s == JobStatusNames.Running, TimeSpan.FromSeconds(30));
        using var admin = Server.Operator();

        var watch = Stopwatch.StartNew();
        var cancel = await admin.PostAsync($"{Routes.ApiJobs}/{created.Id}/cancel", null);
        var job = await WaitForStatusAsync(created.Id, JobStatusNames.IsTerminal, TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal(JobStatusNames.Canceled, job.Status);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"cancel took {watch.Elapsed}");
    }

    [Fact]
    public async Task Job_InAWorkspace_WritesItsVolume_AndTheNextJobReadsIt_ArtifactsIncluded()
    {
        await StartAgentAsync();
        var workspace = await CreatedAsync(new CreateWorkspaceRequest("job-ws", "harness-test/http:1"));
        Assert.Equal(WorkspaceStatus.Running, workspace.Status);

        var writer = await CreateJobAsync(Shell("mkdir -p out && echo kept > out/note.txt && pwd", workspace: workspace.Name) with { Artifacts = ["out/*.txt"] });
        var (writerLines, _, written) = await FollowAsync(writer.Id);
        var reader = await CreateJobAsync(Shell("cat /workspace/out/note.txt", workspace: workspace.Id.ToString()));
        var (readerLines, _, read) = await FollowAsync(reader.Id);

        Assert.True(written.Status == JobStatusNames.Succeeded, written.LastErrorMessage);
        Assert.Equal(workspace.Id.ToString("D"), written.WorkspaceId);
        Assert.Contains(writerLines, l => l.Text == "/workspace");
        var artifact = Assert.Single(written.Artifacts);
        Assert.Equal("out/note.txt", artifact.Name);
        using var admin = Server.Operator();
        Assert.Equal("kept\n", await admin.GetStringAsync(artifact.Url));
        Assert.True(read.Status == JobStatusNames.Succeeded, read.LastErrorMessage);
        Assert.Contains(readerLines, l => l.Text == "kept");
    }
}

/// <summary>The Docker backend on the private engine, the server on PostgreSQL.</summary>
public sealed class DockerSandboxJobEndToEndTests() : SandboxJobEndToEndTests(Providers.Postgres)
{
    private readonly DockerEngine _engine = new();

    protected override string Image => "harness-test/sandbox:1";

    protected override async Task<Dictionary<string, string?>> SandboxConfigurationAsync()
    {
        await _engine.InitializeAsync();
        return new()
        {
            ["Agent:Sandbox:Backend"] = "docker",
            ["Agent:Sandbox:Docker:Endpoint"] = _engine.Endpoint,
        };
    }
}

/// <summary>The bubblewrap backend with the host's own /usr as the image, the server on SQLite.</summary>
public sealed class BubblewrapSandboxJobEndToEndTests() : SandboxJobEndToEndTests(Providers.Sqlite)
{
    protected override string Image => "host";

    protected override Task<Dictionary<string, string?>> SandboxConfigurationAsync() =>
        Task.FromResult(new Dictionary<string, string?> { ["Agent:Sandbox:Backend"] = "bubblewrap" });
}
