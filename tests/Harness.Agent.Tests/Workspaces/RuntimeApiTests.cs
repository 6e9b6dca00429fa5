using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Harness.Agent.Workspaces;
using Harness.Client;
using Harness.Contracts;
using Harness.Contracts.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Harness.Agent.Tests.Workspaces;

/// <summary>The Runtime Agent API over HTTP: key checks, validation, and one status per runtime error, on the fake runtime.</summary>
public sealed class RuntimeApiTests : IAsyncLifetime
{
    private const string Key = "runtime-key-for-tests-0123456789";
    private readonly string _root = Directory.CreateTempSubdirectory("harness-runtime-api-").FullName;
    private IHost _host = null!;
    private HttpClient _http = null!;
    private RuntimeAgentClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = HarnessAgentHost.Build(new AgentHostSettings
        {
            Configuration = new()
            {
                // No server answers here: the API works without one, except archive jobs.
                ["Agent:ServerUrl"] = "http://127.0.0.1:9",
                ["Agent:Name"] = "docker-01",
                ["Agent:ApiKey"] = "hk_unused",
                ["Agent:StateDir"] = Path.Combine(_root, "state"),
                ["Agent:Workspaces:Runtime"] = "fake",
                ["Agent:Workspaces:Listen"] = "http://127.0.0.1:0",
                ["Agent:Workspaces:Capacity"] = "5",
                ["Agent:Workspaces:Fake:Root"] = Path.Combine(_root, "fake"),
                ["Agent:Workspaces:Fake:Images:0"] = "harness-test/http:1",
            },
        });
        await _host.StartAsync();
        var state = _host.Services.GetRequiredService<RuntimeApiState>();
        state.Set(Key);
        _http = new HttpClient { BaseAddress = state.Endpoint };
        _client = new RuntimeAgentClient(_http, state.Endpoint!, Key);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.StopAsync();
        _host.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    public async Task EveryRoute_WithoutTheRuntimeKey_Is401(string? key)
    {
        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, RuntimeRoutes.Health), (HttpMethod.Get, RuntimeRoutes.Instances), (HttpMethod.Get, RuntimeRoutes.Volumes),
            (HttpMethod.Post, RuntimeRoutes.Volume("ws-1")), (HttpMethod.Post, RuntimeRoutes.InstanceStart("ws-1")),
            (HttpMethod.Delete, RuntimeRoutes.Volume("ws-1")), (HttpMethod.Post, RuntimeRoutes.ArchiveJobs),
        })
        {
            using var request = new HttpRequestMessage(method, path);
            if (key is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }
            using var response = await _http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        // Nothing was created by the refused calls.
        Assert.Empty((await _client.ListVolumesAsync(CancellationToken.None)).Volumes);
    }

    [Fact]
    public async Task Health_NamesTheRuntimeAgentAndCapacity()
    {
        var health = await _client.GetHealthAsync(CancellationToken.None);
        Assert.Equal(RuntimeHealthStatus.Ok, health.Status);
        Assert.Equal("fake", health.Runtime);
        Assert.Equal("docker-01", health.AgentName);
        Assert.Equal(5, health.Capacity);
    }

    [Fact]
    public async Task Lifecycle_OverHttp_VolumeStartStatusUpstreamDelete()
    {
        var created = await _client.CreateVolumeAsync("ws-1", CancellationToken.None);
        Assert.Equal("harness-vol-ws-1", created.Name);
        Assert.True((await _client.VolumeExistsAsync("ws-1", CancellationToken.None)).Exists);

        var started = await _client.StartInstanceAsync("ws-1", new InstanceStartRequest("harness-test/http:1"), CancellationToken.None);
        Assert.Equal(InstanceState.Running, started.State);
        var upstream = await _client.GetUpstreamAsync("ws-1", CancellationToken.None);
        Assert.Equal(started.Upstream, upstream.Url);
        Assert.Equal(["ws-1"], (await _client.ListInstancesAsync("ws-", CancellationToken.None)).Instances.Select(i => i.WorkspaceId));

        var inUse = await Assert.ThrowsAsync<HarnessApiException>(() => _client.DeleteVolumeAsync("ws-1", CancellationToken.None));
        Assert.Equal(HttpStatusCode.Conflict, inUse.Status);

        Assert.True(await _client.DeleteInstanceAsync("ws-1", CancellationToken.None));
        Assert.False(await _client.DeleteInstanceAsync("ws-1", CancellationToken.None));
        Assert.Equal(InstanceState.NotFound, (await _client.GetInstanceAsync("ws-1", CancellationToken.None)).State);
        var noUpstream = await Assert.ThrowsAsync<HarnessApiException>(() => _client.GetUpstreamAsync("ws-1", CancellationToken.None));
        Assert.Equal(HttpStatusCode.NotFound, noUpstream.Status);
        Assert.True(await _client.DeleteVolumeAsync("ws-1", CancellationToken.None));
    }

    [Fact]
    public async Task RuntimeErrors_MapToOneStatusEach()
    {
        var noVolume = await Assert.ThrowsAsync<HarnessApiException>(() =>
            _client.StartInstanceAsync("ws-2", new InstanceStartRequest("harness-test/http:1"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.NotFound, noVolume.Status);

        await _client.CreateVolumeAsync("ws-2", CancellationToken.None);
        var noImage = await Assert.ThrowsAsync<HarnessApiException>(() =>
            _client.StartInstanceAsync("ws-2", new InstanceStartRequest("harness-test/missing:1"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, noImage.Status);
        Assert.Contains("harness-test/missing:1", noImage.Detail);
    }

    [Theory]
    [InlineData("{}", "image")]
    [InlineData("""{"image":"has space"}""", "image")]
    [InlineData("""{"image":"a/b:1","port":0}""", "port")]
    [InlineData("""{"image":"a/b:1","port":"eighty"}""", "port")]
    [InlineData("""{"image":"a/b:1","mount_path":"relative"}""", "mount_path")]
    [InlineData("""{"image":"a/b:1","env":{"1BAD":"x"}}""", "env.1BAD")]
    [InlineData("""{"image":"a/b:1","resources":{"cpu":-1}}""", "resources.cpu")]
    [InlineData("""{"image":"a/b:1","resources":{"memory_mb":1}}""", "resources.memory_mb")]
    [InlineData("""{"image":"a/b:1","resources":{"pids":0}}""", "resources.pids")]
    [InlineData("[1,2", "body")]
    public async Task StartInstance_BadBody_Is400NamingTheField(string body, string field)
    {
        await _client.CreateVolumeAsync("ws-3", CancellationToken.None);
        var problem = await SendAsync(HttpMethod.Post, RuntimeRoutes.InstanceStart("ws-3"), body);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.StartsWith(field + ":", problem.GetProperty("detail").GetString());
        Assert.Equal(InstanceState.NotFound, (await _client.GetInstanceAsync("ws-3", CancellationToken.None)).State);
    }

    [Theory]
    [InlineData("UPPER")]
    [InlineData("a_b")]
    [InlineData("-lead")]
    [InlineData("x234567890123456789012345678901234567890123456789012345678901234")]
    public async Task BadWorkspaceId_Is400NamingWorkspaceId(string id)
    {
        var problem = await SendAsync(HttpMethod.Post, RuntimeRoutes.Volume(id), null);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.StartsWith("workspace_id:", problem.GetProperty("detail").GetString());
        Assert.Empty((await _client.ListVolumesAsync(CancellationToken.None)).Volumes);
    }

    [Theory]
    [InlineData("""{"archive_id":"a1"}""", "workspace_id")]
    [InlineData("""{"workspace_id":"ws-4"}""", "archive_id")]
    [InlineData("""{"workspace_id":"ws-4","archive_id":"../../etc/passwd"}""", "archive_id")]
    public async Task ArchiveJob_BadBody_Is400NamingTheField(string body, string field)
    {
        var problem = await SendAsync(HttpMethod.Post, RuntimeRoutes.ArchiveJobs, body);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Contains(field + ":", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ArchiveJob_ServerUnreachable_Is502AndLeavesNoScratchFile()
    {
        await _client.CreateVolumeAsync("ws-5", CancellationToken.None);
        var e = await Assert.ThrowsAsync<HarnessApiException>(() => _client.ArchiveAsync("ws-5", "arch-1", CancellationToken.None));
        Assert.Equal(HttpStatusCode.BadGateway, e.Status);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, "state", "archives")));
    }

    [Fact]
    public async Task OpenApiDocument_IsTheCommittedContract()
    {
        // docs/runtime-agent-api.json is the contract; regenerate it with HARNESS_WRITE_CONTRACT=1 when the API changes on purpose.
        var served = await _http.GetStringAsync(RuntimeRoutes.OpenApiDocument);
        var committed = Path.Combine(RepositoryRoot(), "docs", "runtime-agent-api.json");
        if (Environment.GetEnvironmentVariable("HARNESS_WRITE_CONTRACT") == "1")
        {
            await File.WriteAllTextAsync(committed, Normalize(served));
        }
        Assert.Equal(Normalize(await File.ReadAllTextAsync(committed)), Normalize(served));
        foreach (var path in new[] { "/instances/{workspace_id}/start", "/instances/{workspace_id}", "/instances/{workspace_id}/status",
                     "/instances/{workspace_id}/upstream", "/instances", "/volumes/{workspace_id}", "/volumes/{workspace_id}/exists",
                     "/volumes", "/jobs/archive", "/jobs/restore", "/health" })
        {
            Assert.Contains($"\"{path}\"", served);
        }
    }

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, string? body)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        using var response = await _http.SendAsync(request);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    private static string Normalize(string json) =>
        JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement, new JsonSerializerOptions { WriteIndented = true }).ReplaceLineEndings("\n") + "\n";

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Harness.slnx")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("not inside the repository");
    }
}
