using System.Net.WebSockets;
using System.Text.Json;
using Harness.Contracts.Nodes;
using Microsoft.Extensions.Logging;

namespace Harness.Runtimes.Devices.VendorWs;

/// <summary>
/// Drives devices through the vendor's WebSocket service (docs/devices.md): one shared
/// connection, requests multiplexed by id, reconnect on the next call after a failure. While
/// the service is unreachable calls fail fast with <see cref="DeviceErrorKind.BackendDown"/>
/// and a new connection is tried at most every <see cref="ReconnectDelay"/>.
/// </summary>
public sealed partial class VendorWsAdapter(Uri url, TimeSpan requestTimeout, ILogger<VendorWsAdapter> logger, TimeProvider timeProvider) : IDeviceAdapter
{
    private readonly RequestDeadline _deadline = new(requestTimeout, timeProvider);
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private volatile VendorWsConnection? _connection;
    private DateTimeOffset _retryAfter = DateTimeOffset.MinValue;
    private long _nextId;
    private bool _disposed;

    public string Name => DeviceAdapterOptions.VendorWsAdapter;

    public Uri Url => url;

    /// <summary>After a failed connect, calls within this window fail without dialling again.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public async Task<IReadOnlyList<DeviceInfo>> ListAsync(CancellationToken cancellationToken)
    {
        var result = await CallAsync(VendorWsProtocol.Commands.List, null, null, cancellationToken);
        if (!result.TryGetProperty("devices", out var devices) || devices.ValueKind != JsonValueKind.Array)
        {
            throw new DeviceException(DeviceErrorKind.Failed, "The vendor service answered list without a devices array.");
        }
        return [.. devices.EnumerateArray().Select(VendorWsDevices.Read)];
    }

    public async Task<bool> CheckConnectionAsync(CancellationToken cancellationToken)
    {
        try
        {
            await CallAsync(VendorWsProtocol.Commands.Hello, null, null, cancellationToken);
            return true;
        }
        catch (DeviceException ex)
        {
            LogCheckFailed(logger, url, ex.Message);
            return false;
        }
    }

    public Task PingAsync(string handle, CancellationToken cancellationToken) =>
        CallAsync(VendorWsProtocol.Commands.Ping, handle, null, cancellationToken);

    public async Task<string> ShellAsync(string handle, string command, CancellationToken cancellationToken)
    {
        var result = await CallAsync(VendorWsProtocol.Commands.Shell, handle, j => j.WriteString("command", command), cancellationToken);
        return result.TryGetProperty("output", out var output) && output.ValueKind == JsonValueKind.String ? output.GetString()! : "";
    }

    public Task TapAsync(string handle, int x, int y, CancellationToken cancellationToken) =>
        CallAsync(VendorWsProtocol.Commands.Tap, handle, j => { j.WriteNumber("x", x); j.WriteNumber("y", y); }, cancellationToken);

    public Task SwipeAsync(string handle, int x1, int y1, int x2, int y2, int durationMs, CancellationToken cancellationToken) =>
        CallAsync(VendorWsProtocol.Commands.Swipe, handle, j =>
        {
            j.WriteNumber("x1", x1);
            j.WriteNumber("y1", y1);
            j.WriteNumber("x2", x2);
            j.WriteNumber("y2", y2);
            j.WriteNumber("duration_ms", durationMs);
        }, cancellationToken);

    public Task InputTextAsync(string handle, string text, CancellationToken cancellationToken) =>
        CallAsync(VendorWsProtocol.Commands.Text, handle, j => j.WriteString("text", text), cancellationToken);

    public Task KeyEventAsync(string handle, string key, CancellationToken cancellationToken) =>
        CallAsync(VendorWsProtocol.Commands.Key, handle, j => j.WriteString("key", key), cancellationToken);

    public Task LaunchAppAsync(string handle, string package, string? activity, CancellationToken cancellationToken) =>
        CallAsync(VendorWsProtocol.Commands.Launch, handle, j =>
        {
            j.WriteString("package", package);
            if (activity is not null)
            {
                j.WriteString("activity", activity);
            }
        }, cancellationToken);

    public Task OpenUrlAsync(string handle, string url, CancellationToken cancellationToken) =>
        CallAsync(VendorWsProtocol.Commands.OpenUrl, handle, j => j.WriteString("url", url), cancellationToken);

    public async Task<byte[]> ScreenshotAsync(string handle, CancellationToken cancellationToken)
    {
        var result = await CallAsync(VendorWsProtocol.Commands.Screenshot, handle, null, cancellationToken);
        if (result.TryGetProperty("png", out var png) && png.ValueKind == JsonValueKind.String && png.TryGetBytesFromBase64(out var bytes))
        {
            return bytes;
        }
        throw new DeviceException(DeviceErrorKind.Failed, $"{handle}: the vendor service answered screenshot without a base64 png.");
    }

    public Task RebootAsync(string handle, CancellationToken cancellationToken) =>
        CallAsync(VendorWsProtocol.Commands.Reboot, handle, null, cancellationToken);

    public Task EmulatorStartAsync(string handle, CancellationToken cancellationToken) =>
        CallAsync(VendorWsProtocol.Commands.EmulatorStart, handle, null, cancellationToken);

    public Task EmulatorRestartAsync(string handle, CancellationToken cancellationToken) =>
        CallAsync(VendorWsProtocol.Commands.EmulatorRestart, handle, null, cancellationToken);

    private async Task<JsonElement> CallAsync(string cmd, string? serial, Action<Utf8JsonWriter>? args, CancellationToken cancellationToken)
    {
        var connection = await ConnectedAsync(cancellationToken);
        var id = Interlocked.Increment(ref _nextId);
        var frame = VendorWsProtocol.WriteRequest(id, cmd, serial, args);
        var reply = await _deadline.RunAsync(serial ?? url.ToString(), cmd, t => connection.CallAsync(id, frame, t), cancellationToken);
        if (!reply.Ok)
        {
            throw new DeviceException(VendorWsProtocol.KindOf(reply.ErrorCode),
                $"{serial ?? url.ToString()}: {cmd}: {reply.ErrorMessage ?? reply.ErrorCode ?? "failed"}");
        }
        return reply.Result;
    }

    private async Task<VendorWsConnection> ConnectedAsync(CancellationToken cancellationToken)
    {
        if (_connection is { IsAlive: true } open)
        {
            return open;
        }
        await _connectLock.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is { IsAlive: true } again)
            {
                return again;
            }
            if (_connection is { } dead)
            {
                _connection = null;
                await dead.DisposeAsync();
            }
            var now = timeProvider.GetUtcNow();
            if (now < _retryAfter)
            {
                throw new DeviceException(DeviceErrorKind.BackendDown, $"The vendor service at {url} is unreachable; retrying shortly.");
            }
            using var connectDeadline = new CancellationTokenSource(_deadline.Timeout, timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, connectDeadline.Token);
            try
            {
                _connection = await VendorWsConnection.ConnectAsync(url, logger, linked.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException
                || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                _retryAfter = now + ReconnectDelay;
                LogConnectFailed(logger, url, ex.Message);
                throw new DeviceException(DeviceErrorKind.BackendDown,
                    $"Cannot reach the vendor service at {url}: {ex.Message}. Is it running? (Devices:VendorUrl)", ex);
            }
            LogConnected(logger, url);
            return _connection;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _connectLock.WaitAsync();
        try
        {
            _disposed = true;
            if (_connection is { } connection)
            {
                _connection = null;
                await connection.DisposeAsync();
            }
        }
        finally
        {
            _connectLock.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to the vendor WebSocket {Url}")]
    private static partial void LogConnected(ILogger logger, Uri url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot connect to the vendor WebSocket {Url}: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, Uri url, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Vendor WebSocket {Url} failed its connection check: {Reason}")]
    private static partial void LogCheckFailed(ILogger logger, Uri url, string reason);
}
