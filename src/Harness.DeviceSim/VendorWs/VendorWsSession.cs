using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using Harness.Runtimes.Devices;
using Harness.Runtimes.Devices.Simulator;
using Harness.Runtimes.Devices.VendorWs;
using Microsoft.Extensions.Logging;
using Commands = Harness.Runtimes.Devices.VendorWs.VendorWsProtocol.Commands;

namespace Harness.DeviceSim.VendorWs;

/// <summary>
/// One client connection: every request runs on its own task and is answered when it is done,
/// so replies come out of order. An unresponsive device's request is answered never; it is
/// dropped when the client cancels it (<c>cancel</c>) or disconnects.
/// </summary>
internal sealed partial class VendorWsSession(WebSocket socket, SimulatedFarm farm, ILogger logger)
{
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<long, CancellationTokenSource> _running = new();

    public async Task RunAsync(CancellationToken stopping)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var handlers = new ConcurrentDictionary<Task, bool>();
        var buffer = new ArrayBufferWriter<byte>(4096);
        try
        {
            while (true)
            {
                buffer.ResetWrittenCount();
                ValueWebSocketReceiveResult received;
                do
                {
                    received = await socket.ReceiveAsync(buffer.GetMemory(4096), session.Token);
                    buffer.Advance(received.Count);
                }
                while (!received.EndOfMessage && received.MessageType != WebSocketMessageType.Close);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                var frame = buffer.WrittenSpan.ToArray();
                var handler = Task.Run(() => HandleAsync(frame, session.Token), CancellationToken.None);
                handlers[handler] = true;
                _ = handler.ContinueWith(t => handlers.TryRemove(t, out _), TaskScheduler.Default);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // The client went away or the server is stopping.
        }
        finally
        {
            await session.CancelAsync();
            await Task.WhenAll(handlers.Keys);
            _sendLock.Dispose();
        }
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", grace.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
            {
            }
        }
    }

    private async Task HandleAsync(byte[] frame, CancellationToken session)
    {
        if (VendorWsRequest.TryParse(frame, out var id, out var error) is not { } request)
        {
            await SendAsync(VendorWsProtocol.WriteError(id, VendorWsProtocol.ErrorCodes.BadRequest, error!), session);
            return;
        }
        using var call = CancellationTokenSource.CreateLinkedTokenSource(session);
        _running[request.Id] = call;
        try
        {
            var reply = await ExecuteAsync(request, call.Token);
            await SendAsync(reply, session);
        }
        catch (DeviceException ex)
        {
            await SendAsync(VendorWsProtocol.WriteError(request.Id, VendorWsProtocol.ErrorCodeOf(ex.Kind), ex.Message), session);
        }
        catch (FormatException ex)
        {
            await SendAsync(VendorWsProtocol.WriteError(request.Id, VendorWsProtocol.ErrorCodes.BadRequest, ex.Message), session);
        }
        catch (OperationCanceledException)
        {
            // Cancelled by the client or the session ended: an abandoned id gets no reply.
        }
        catch (Exception ex)
        {
            LogRequestCrashed(logger, request.Cmd, ex);
            await SendAsync(VendorWsProtocol.WriteError(request.Id, VendorWsProtocol.ErrorCodes.Failed, "internal error: " + ex.Message), session);
        }
        finally
        {
            _running.TryRemove(request.Id, out _);
        }
    }

    private async Task<byte[]> ExecuteAsync(VendorWsRequest r, CancellationToken ct)
    {
        switch (r.Cmd)
        {
            case Commands.Hello:
                return VendorWsProtocol.WriteResult(r.Id, j =>
                {
                    j.WriteString("server", "harness-devicesim");
                    j.WriteNumber("protocol", VendorWsProtocol.Version);
                    j.WriteNumber("devices", farm.Serials.Count);
                });
            case Commands.List:
                var devices = farm.List();
                return VendorWsProtocol.WriteResult(r.Id, j =>
                {
                    j.WriteStartArray("devices");
                    foreach (var device in devices)
                    {
                        VendorWsDevices.Write(j, device);
                    }
                    j.WriteEndArray();
                });
            case Commands.Cancel:
                var cancelled = _running.TryGetValue(r.Long("id"), out var target);
                if (cancelled)
                {
                    await target!.CancelAsync();
                }
                return VendorWsProtocol.WriteResult(r.Id, j => j.WriteBoolean("cancelled", cancelled));
            case Commands.Shell:
                var output = await farm.ShellAsync(r.RequiredSerial, r.String("command"), ct);
                return VendorWsProtocol.WriteResult(r.Id, j => j.WriteString("output", output));
            case Commands.Screenshot:
                var png = await farm.ScreenshotAsync(r.RequiredSerial, ct);
                return VendorWsProtocol.WriteResult(r.Id, j =>
                {
                    j.WriteBase64String("png", png);
                    j.WriteNumber("width", SimulatedFarm.ScreenWidth);
                    j.WriteNumber("height", SimulatedFarm.ScreenHeight);
                });
            default:
                await RunCommandAsync(r, ct);
                return VendorWsProtocol.WriteResult(r.Id, null);
        }
    }

    private Task RunCommandAsync(VendorWsRequest r, CancellationToken ct) => r.Cmd switch
    {
        Commands.Ping => farm.PingAsync(r.RequiredSerial, ct),
        Commands.Tap => farm.TapAsync(r.RequiredSerial, r.Int("x"), r.Int("y"), ct),
        Commands.Swipe => farm.SwipeAsync(r.RequiredSerial, r.Int("x1"), r.Int("y1"), r.Int("x2"), r.Int("y2"), r.Int("duration_ms", 300), ct),
        Commands.Text => farm.InputTextAsync(r.RequiredSerial, r.String("text"), ct),
        Commands.Key => farm.KeyEventAsync(r.RequiredSerial, r.String("key"), ct),
        Commands.Launch => farm.LaunchAppAsync(r.RequiredSerial, r.String("package"), r.OptionalString("activity"), ct),
        Commands.OpenUrl => farm.OpenUrlAsync(r.RequiredSerial, r.String("url"), ct),
        Commands.Reboot => farm.RebootAsync(r.RequiredSerial, ct),
        Commands.EmulatorStart => farm.EmulatorStartAsync(r.RequiredSerial, ct),
        Commands.EmulatorRestart => farm.EmulatorRestartAsync(r.RequiredSerial, ct),
        _ => throw new FormatException($"cmd: '{r.Cmd}' is not a command of protocol {VendorWsProtocol.Version}."),
    };

    private async Task SendAsync(byte[] frame, CancellationToken session)
    {
        try
        {
            await _sendLock.WaitAsync(session);
            try
            {
                await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, session);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // The client is gone; nobody is waiting for this reply.
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "devicesim: {Cmd} crashed")]
    private static partial void LogRequestCrashed(ILogger logger, string cmd, Exception exception);
}
