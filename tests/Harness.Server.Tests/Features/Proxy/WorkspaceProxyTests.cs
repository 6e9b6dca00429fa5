using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Proxy;
using Harness.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Harness.Server.Tests.Features.Proxy;

/// <summary>
/// <c>/w/{workspace}/…</c> through YARP to a real upstream on loopback: a small web app that echoes
/// what it received, and echoes WebSocket messages.
/// </summary>
public abstract class WorkspaceProxyTests(string provider) : ApiTest(provider)
{
    private WebApplication? _upstream;

    public override async Task DisposeAsync()
    {
        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }
        await base.DisposeAsync();
    }

    private async Task<string> StartUpstreamAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _upstream = builder.Build();
        _upstream.UseWebSockets();
        _upstream.Map("/ws", async context =>
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[1024];
            var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
            await socket.SendAsync(buffer.AsMemory(0, received.Count), WebSocketMessageType.Text, true, context.RequestAborted);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
        });
        _upstream.Map("/{**path}", (HttpContext context) => Results.Json(new Dictionary<string, string?>
        {
            ["path"] = context.Request.Path.Value,
            ["query"] = context.Request.QueryString.Value,
            ["method"] = context.Request.Method,
            ["authorization"] = context.Request.Headers.Authorization.ToString(),
            ["cookie"] = context.Request.Headers.Cookie.ToString(),
            ["prefix"] = context.Request.Headers["X-Forwarded-Prefix"].ToString(),
        }));
        await _upstream.StartAsync();
        return _upstream.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    private async Task<WorkspaceEntity> SeedWorkspaceAsync(string name, string status, string? upstream)
    {
        var now = Server.Time.GetUtcNow();
        var workspace = new WorkspaceEntity
        {
            Id = Guid.NewGuid(), Name = name, Image = "harness-test/http:1", Status = status, Upstream = upstream,
            CreatedAt = now, UpdatedAt = now,
        };
        await QueryAsync(async db =>
        {
            db.Workspaces.Add(workspace);
            return await db.SaveChangesAsync();
        });
        return workspace;
    }

    [Fact]
    public async Task Get_ReachesTheUpstream_WithThePathAndQuery_ButNotTheOperatorsCredentials()
    {
        await SeedWorkspaceAsync("notebook", "running", await StartUpstreamAsync());
        using var admin = Server.Operator();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/w/notebook/api/files?x=1");
        request.Headers.Add("Cookie", "session=operator-secret");
        using var response = await admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("/api/files", seen.GetProperty("path").GetString());
        Assert.Equal("?x=1", seen.GetProperty("query").GetString());
        Assert.Equal("", seen.GetProperty("authorization").GetString());
        Assert.Equal("", seen.GetProperty("cookie").GetString());
        Assert.Equal("/w/notebook", seen.GetProperty("prefix").GetString());
    }

    [Fact]
    public async Task WorkspaceWithoutTrailingSlash_RedirectsToTheSlash()
    {
        await SeedWorkspaceAsync("notebook", "running", await StartUpstreamAsync());
        using var admin = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Server.BaseAddress };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", TestServer.AdminToken);
        using var response = await admin.GetAsync("/w/notebook");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/w/notebook/", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task WebSocket_IsForwarded()
    {
        await SeedWorkspaceAsync("terminal", "running", await StartUpstreamAsync());
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {TestServer.AdminToken}");
        var url = new UriBuilder(Server.BaseAddress) { Scheme = "ws", Path = "/w/terminal/ws" }.Uri;
        await socket.ConnectAsync(url, CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes("ls -la"), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[1024];
        var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal("ls -la", Encoding.UTF8.GetString(buffer, 0, received.Count));
    }

    [Fact]
    public async Task SignedOut_Is401_AndNeverReachesTheWorkspace()
    {
        await SeedWorkspaceAsync("notebook", "running", await StartUpstreamAsync());
        using var anonymous = Server.Anonymous();
        using var response = await anonymous.GetAsync("/w/notebook/");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Unknown_Is404_Stopped_Is409_DeadUpstream_Is502()
    {
        await SeedWorkspaceAsync("stopped-one", "stopped", null);
        await SeedWorkspaceAsync("dead-one", "running", "http://127.0.0.1:9");
        using var admin = Server.Operator();

        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/w/nobody/")).StatusCode);
        await AssertProblemAsync(await admin.GetAsync("/w/stopped-one/"), HttpStatusCode.Conflict, "workspace");
        await AssertProblemAsync(await admin.GetAsync("/w/dead-one/"), HttpStatusCode.BadGateway, "workspace");
    }

    [Fact]
    public async Task ProxiedTraffic_IsTheWorkspacesActivity()
    {
        var workspace = await SeedWorkspaceAsync("notebook", "running", await StartUpstreamAsync());
        using var admin = Server.Operator();
        Server.Time.Advance(TimeSpan.FromMinutes(5));
        (await admin.GetAsync("/w/notebook/")).EnsureSuccessStatusCode();

        await Server.Services.GetRequiredService<WorkspaceActivity>().FlushAsync(CancellationToken.None);

        var seen = await QueryAsync(db => Task.FromResult(db.Workspaces.Single(w => w.Id == workspace.Id).LastActivityAt));
        Assert.Equal(Server.Time.GetUtcNow(), seen);
    }
}

public sealed class WorkspaceProxyTests_Sqlite() : WorkspaceProxyTests(Providers.Sqlite);

public sealed class WorkspaceProxyTests_Postgres() : WorkspaceProxyTests(Providers.Postgres);
