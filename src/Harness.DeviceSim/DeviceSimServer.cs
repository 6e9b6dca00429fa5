using System.Net;
using Harness.DeviceSim.Adb;
using Harness.DeviceSim.VendorWs;
using Harness.Runtimes.Devices.Simulator;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Harness.DeviceSim;

/// <summary>
/// Serves one <see cref="SimulatedFarm"/> over the vendor WebSocket protocol (Kestrel) and,
/// optionally, the adb server protocol, so the real adapters can be tested against it and a
/// developer can run an agent with no devices at hand (<c>harness devicesim</c>).
/// </summary>
public sealed partial class DeviceSimServer(SimulatedFarm farm, DeviceSimServerOptions options, ILoggerFactory? loggerFactory = null) : IAsyncDisposable
{
    private readonly ILoggerFactory _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private AdbSimServer? _adb;

    public SimulatedFarm Farm => farm;

    /// <summary>The bound vendor WebSocket URL (the real port when 0 was asked for); set by <see cref="StartAsync"/>.</summary>
    public Uri WsUrl { get; private set; } = new(options.WsUrl);

    /// <summary>The adb protocol's bound port, or null when not served.</summary>
    public int? AdbPort => _adb?.Port;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var requested = new Uri(options.WsUrl);
        if (requested.Scheme != "ws")
        {
            throw new ArgumentException($"--url: '{options.WsUrl}' must be a ws:// URL (like ws://127.0.0.1:22222).");
        }
        var address = requested.Host is "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(requested.Host, out var ip) ? ip
            : throw new ArgumentException($"--url: '{requested.Host}' must be an IP address or localhost.");

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(DeviceSimServer).Assembly.GetName().Name });
        builder.Logging.ClearProviders(); // Kestrel's own lines are noise here; the sessions log through _loggerFactory
        builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.UseKestrel(k => k.Listen(address, requested.Port));
        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15) });
        var logger = _loggerFactory.CreateLogger<DeviceSimServer>();
        app.Run(async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                await context.Response.WriteAsync("harness devicesim speaks the vendor WebSocket protocol here; see docs/devices.md.\n");
                return;
            }
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            LogClientConnected(logger, context.Connection.RemoteIpAddress, context.Connection.RemotePort);
            await new VendorWsSession(socket, farm, logger).RunAsync(_stopping.Token);
        });
        await app.StartAsync(cancellationToken);
        _app = app;

        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        WsUrl = new UriBuilder(requested) { Port = bound.Port }.Uri;

        if (options.AdbPort is { } adbPort)
        {
            _adb = new AdbSimServer(farm, adbPort, options.AdbServerVersion, logger);
            _adb.Start();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_adb is { } adb)
        {
            _adb = null;
            await adb.DisposeAsync();
        }
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync(cancellationToken);
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "devicesim: vendor WebSocket client connected from {Address}:{Port}")]
    private static partial void LogClientConnected(ILogger logger, IPAddress? address, int port);
}
