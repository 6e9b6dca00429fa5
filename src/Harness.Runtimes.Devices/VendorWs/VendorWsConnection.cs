using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;

namespace Harness.Runtimes.Devices.VendorWs;

/// <summary>
/// One WebSocket to the vendor service, shared by every call: sends go one at a time under a
/// lock, a single receive loop hands each reply to the call waiting on its id. When the socket
/// dies every waiting call fails with <see cref="DeviceErrorKind.BackendDown"/>.
/// </summary>
internal sealed partial class VendorWsConnection : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly Uri _url;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<VendorWsReply>> _pending = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiveLoop;
    private volatile bool _closed;

    private VendorWsConnection(ClientWebSocket socket, Uri url, ILogger logger)
    {
        _socket = socket;
        _url = url;
        _logger = logger;
        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    public bool IsAlive => !_closed && _socket.State == WebSocketState.Open;

    public static async Task<VendorWsConnection> ConnectAsync(Uri url, ILogger logger, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(15);
        try
        {
            await socket.ConnectAsync(url, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new VendorWsConnection(socket, url, logger);
    }

    /// <summary>Sends one request and waits for its reply; a cancelled call abandons its id (a late reply is dropped).</summary>
    public async Task<VendorWsReply> CallAsync(long id, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        var reply = new TaskCompletionSource<VendorWsReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            if (_closed)
            {
                throw Down(null);
            }
            await _sendLock.WaitAsync(cancellationToken);
            try
            {
                // Not the caller's token: cancelling a WebSocket send aborts the whole socket.
                await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
            {
                throw Down(ex);
            }
            finally
            {
                _sendLock.Release();
            }
            return await reply.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !_closed)
        {
            // Tell the service so an unresponsive device's request does not run on forever there.
            _ = SendCancelAsync(id);
            throw;
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task SendCancelAsync(long abandoned)
    {
        var frame = VendorWsProtocol.WriteRequest(-abandoned, VendorWsProtocol.Commands.Cancel, null, j => j.WriteNumber("id", abandoned));
        try
        {
            await _sendLock.WaitAsync(_stop.Token);
            try
            {
                await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Best effort: the receive loop reports a dead connection.
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        Exception? failure = null;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                buffer.ResetWrittenCount();
                ValueWebSocketReceiveResult received;
                do
                {
                    received = await _socket.ReceiveAsync(buffer.GetMemory(16 * 1024), _stop.Token);
                    buffer.Advance(received.Count);
                }
                while (!received.EndOfMessage && received.MessageType != WebSocketMessageType.Close);

                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                Dispatch(buffer.WrittenSpan);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or IOException)
        {
            failure = ex;
        }
        finally
        {
            _closed = true;
            if (!_stop.IsCancellationRequested)
            {
                LogConnectionLost(_logger, _url, failure?.Message ?? "closed by the server");
            }
            foreach (var (_, waiting) in _pending)
            {
                waiting.TrySetException(Down(failure));
            }
        }
    }

    private void Dispatch(ReadOnlySpan<byte> frame)
    {
        if (VendorWsReply.TryParse(frame) is not { } reply)
        {
            LogUnreadableFrame(_logger, frame.Length);
            return;
        }
        if (_pending.TryGetValue(reply.Id, out var waiting))
        {
            waiting.TrySetResult(reply);
        }
    }

    private DeviceException Down(Exception? inner) =>
        new(DeviceErrorKind.BackendDown, $"The vendor service at {_url} closed the connection; it will be reopened on the next call.", inner);

    public async ValueTask DisposeAsync()
    {
        _closed = true;
        await _stop.CancelAsync();
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", grace.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Closing politely is best effort.
        }
        _socket.Abort();
        await _receiveLoop;
        _socket.Dispose();
        _stop.Dispose();
        _sendLock.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the vendor WebSocket {Url}: {Reason}")]
    private static partial void LogConnectionLost(ILogger logger, Uri url, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored a vendor WebSocket frame of {Length} bytes that is not a reply with an id")]
    private static partial void LogUnreadableFrame(ILogger logger, int length);
}
