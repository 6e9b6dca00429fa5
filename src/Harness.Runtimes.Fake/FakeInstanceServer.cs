using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Harness.Runtimes.Fake;

/// <summary>
/// What a fake instance runs: an HTTP server on a loopback port serving the volume's files
/// (<c>GET /path</c>), echoing WebSocket messages on <c>/ws</c>, and writing a file on
/// <c>PUT /path</c>, so a workspace on the fake behaves like a small web app with a disk.
/// </summary>
internal sealed class FakeInstanceServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeInstanceServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<FakeInstanceServer> StartAsync(string host, int port, string root, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://{host}:{port}");
        var app = builder.Build();
        app.UseWebSockets();
        app.Map("/ws", EchoAsync);
        app.MapGet("/{**path}", (string? path, HttpContext context) => ServeAsync(root, path, context));
        app.MapPut("/{**path}", (string? path, HttpContext context) => WriteAsync(root, path, context));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FakeInstanceServer(app, new Uri(address));
    }

    private static async Task ServeAsync(string root, string? path, HttpContext context)
    {
        var file = Resolve(root, string.IsNullOrEmpty(path) ? "index.html" : path);
        if (file is null || !File.Exists(file))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        context.Response.ContentType = "application/octet-stream";
        await context.Response.SendFileAsync(file, context.RequestAborted);
    }

    private static async Task WriteAsync(string root, string? path, HttpContext context)
    {
        var file = string.IsNullOrEmpty(path) ? null : Resolve(root, path);
        if (file is null)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await using (var output = File.Create(file))
        {
            await context.Request.Body.CopyToAsync(output, context.RequestAborted);
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>A path inside the volume, or null for one that climbs out of it.</summary>
    private static string? Resolve(string root, string path)
    {
        var full = Path.GetFullPath(Path.Combine(root, path));
        return full.StartsWith(Path.GetFullPath(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? full : null;
    }

    private static async Task EchoAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
                return;
            }
            await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
