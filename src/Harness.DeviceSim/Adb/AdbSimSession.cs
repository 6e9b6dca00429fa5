using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Harness.Runtimes.Devices;
using Harness.Runtimes.Devices.Simulator;
using Microsoft.Extensions.Logging;

namespace Harness.DeviceSim.Adb;

/// <summary>
/// One adb client connection: host services (version, devices, devices-l, features) answer and
/// close; <c>host:transport:&lt;serial&gt;</c> selects a device for one device service (shell,
/// shell v2, exec:screencap -p, reboot:). A device that goes away mid-command drops the connection,
/// as a real one does; an unresponsive one keeps it open until the client hangs up.
/// </summary>
internal sealed partial class AdbSimSession(TcpClient client, SimulatedFarm farm, int serverVersion, ILogger logger)
{
    private const string Features = "shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir,apex";

    private readonly NetworkStream _stream = client.GetStream();

    public async Task RunAsync(CancellationToken stopping)
    {
        using var hangup = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        try
        {
            string? serial = null;
            while (await ReadRequestAsync(hangup.Token) is { } request)
            {
                if (serial is null)
                {
                    serial = await HostServiceAsync(request, hangup.Token);
                    if (serial is null)
                    {
                        break; // a host service answers once
                    }
                    continue;
                }
                await DeviceServiceAsync(serial, request, hangup);
                break;
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or TimeoutException)
        {
            // The client hung up or the server is stopping.
        }
        catch (DeviceException)
        {
            // The device went away mid-command: like a real one, the connection just drops.
        }
        catch (Exception ex)
        {
            LogSessionCrashed(logger, ex);
        }
        finally
        {
            await CloseAsync();
        }
    }

    /// <summary>Answers a host service; returns the selected serial after a transport request, else null.</summary>
    private async Task<string?> HostServiceAsync(string request, CancellationToken ct)
    {
        switch (request)
        {
            case "host:version":
                await OkayAsync(serverVersion.ToString("x4", CultureInfo.InvariantCulture), ct);
                return null;
            case "host:devices" or "host:devices-l":
                await OkayAsync(DeviceList(longForm: request.EndsWith("-l", StringComparison.Ordinal)), ct);
                return null;
            case "host:features" or "host:host-features":
                await OkayAsync(Features, ct);
                return null;
            case "host:kill":
                await WriteAsync("OKAY"u8.ToArray(), ct);
                return null;
        }
        if (request.StartsWith("host-serial:", StringComparison.Ordinal) && request.EndsWith(":features", StringComparison.Ordinal))
        {
            await OkayAsync(Features, ct);
            return null;
        }
        foreach (var prefix in (string[])["host:transport:", "host:tport:serial:"])
        {
            if (request.StartsWith(prefix, StringComparison.Ordinal))
            {
                var serial = request[prefix.Length..];
                if (TransportError(serial) is { } error)
                {
                    await FailAsync(error, ct);
                    return null;
                }
                await WriteAsync("OKAY"u8.ToArray(), ct);
                if (prefix == "host:tport:serial:")
                {
                    await WriteAsync(new byte[8], ct); // the transport id, which nobody here needs
                }
                return serial;
            }
        }
        await FailAsync($"unknown host service '{request}'", ct);
        return null;
    }

    private string? TransportError(string serial)
    {
        var device = farm.List().FirstOrDefault(d => d.Handle == serial);
        return device switch
        {
            null => $"device '{serial}' not found",
            { State: Contracts.Nodes.DeviceState.Ready } => null,
            _ => "device offline",
        };
    }

    private async Task DeviceServiceAsync(string serial, string service, CancellationTokenSource hangup)
    {
        var ct = hangup.Token;
        if (service.StartsWith("shell,", StringComparison.Ordinal) || service.StartsWith("shell:", StringComparison.Ordinal))
        {
            // shell[,v2][,TERM=…][,raw|pty]:command
            var colon = service.IndexOf(':', StringComparison.Ordinal);
            var v2 = service[..colon].Split(',').Contains("v2");
            var command = service[(colon + 1)..];
            await WriteAsync("OKAY"u8.ToArray(), ct);
            var watch = WatchForHangupAsync(hangup);
            var (output, error, exit) = await RunShellAsync(serial, command, ct);
            if (v2)
            {
                if (output.Length > 0)
                {
                    await PacketAsync(1, Encoding.UTF8.GetBytes(output), ct);
                }
                if (error.Length > 0)
                {
                    await PacketAsync(2, Encoding.UTF8.GetBytes(error), ct);
                }
                await PacketAsync(3, [(byte)exit], ct);
            }
            else
            {
                await WriteAsync(Encoding.UTF8.GetBytes(output + error), ct);
            }
            client.Client.Shutdown(SocketShutdown.Send);
            await watch.WaitAsync(TimeSpan.FromSeconds(2), ct);
        }
        else if (service.StartsWith("exec:", StringComparison.Ordinal) && SimulatedShell.Tokenize(service[5..]) is ["screencap", "-p"])
        {
            await WriteAsync("OKAY"u8.ToArray(), ct);
            var watch = WatchForHangupAsync(hangup);
            byte[] png;
            try
            {
                png = await farm.ScreenshotAsync(serial, ct);
            }
            catch (DeviceException ex) when (ex.Kind == DeviceErrorKind.Failed)
            {
                png = Encoding.UTF8.GetBytes("screencap: " + ex.Message + "\n");
            }
            await WriteAsync(png, ct);
            client.Client.Shutdown(SocketShutdown.Send);
            await watch.WaitAsync(TimeSpan.FromSeconds(2), ct);
        }
        else if (service.StartsWith("reboot:", StringComparison.Ordinal))
        {
            _ = WatchForHangupAsync(hangup);
            await farm.RebootAsync(serial, ct);
            await WriteAsync("OKAY"u8.ToArray(), ct);
        }
        else
        {
            await FailAsync($"unknown service '{service}'", ct);
        }
    }

    /// <summary>A device that went away (Unavailable) surfaces as the connection dropping, which the caller sees.</summary>
    private async Task<(string Output, string Error, int Exit)> RunShellAsync(string serial, string command, CancellationToken ct)
    {
        try
        {
            return (await farm.ShellAsync(serial, command, ct), "", 0);
        }
        catch (DeviceException ex) when (ex.Kind == DeviceErrorKind.Failed)
        {
            return ("", ex.Message + "\n", 1);
        }
    }

    /// <summary>Reads (and drops) what the client sends after the service opened; cancels the command when it hangs up.</summary>
    private async Task WatchForHangupAsync(CancellationTokenSource hangup)
    {
        var sink = new byte[512];
        try
        {
            while (await _stream.ReadAsync(sink, hangup.Token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
        await hangup.CancelAsync();
    }

    private string DeviceList(bool longForm)
    {
        var text = new StringBuilder();
        var transport = 0;
        foreach (var device in farm.List())
        {
            transport++;
            var state = device.State == Contracts.Nodes.DeviceState.Ready ? "device" : "offline";
            if (!longForm)
            {
                text.Append(device.Handle).Append('\t').Append(state).Append('\n');
                continue;
            }
            var model = (device.Model ?? "unknown").Replace(' ', '_');
            var product = device.IsEmulator ? model : "sim_" + model.ToLowerInvariant();
            text.Append(CultureInfo.InvariantCulture, $"{device.Handle,-22} {state} product:{product} model:{model} device:sim transport_id:{transport}\n");
        }
        return text.ToString();
    }

    private async Task<string?> ReadRequestAsync(CancellationToken ct)
    {
        var header = new byte[4];
        if (!await ReadExactlyAsync(header, ct))
        {
            return null;
        }
        if (!int.TryParse(Encoding.ASCII.GetString(header), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var length))
        {
            await FailAsync("bad request length", ct);
            return null;
        }
        var payload = new byte[length];
        return await ReadExactlyAsync(payload, ct) ? Encoding.UTF8.GetString(payload) : null;
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken ct)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await _stream.ReadAsync(buffer.AsMemory(read), ct);
            if (n == 0)
            {
                return false;
            }
            read += n;
        }
        return true;
    }

    private Task OkayAsync(string payload, CancellationToken ct) => WriteAsync(Encoding.UTF8.GetBytes("OKAY" + Prefixed(payload)), ct);

    private Task FailAsync(string message, CancellationToken ct) => WriteAsync(Encoding.UTF8.GetBytes("FAIL" + Prefixed(message)), ct);

    private static string Prefixed(string payload) => Encoding.UTF8.GetByteCount(payload).ToString("x4", CultureInfo.InvariantCulture) + payload;

    private Task PacketAsync(byte id, byte[] data, CancellationToken ct)
    {
        var packet = new byte[5 + data.Length];
        packet[0] = id;
        BinaryPrimitives.WriteInt32LittleEndian(packet.AsSpan(1), data.Length);
        data.CopyTo(packet, 5);
        return WriteAsync(packet, ct);
    }

    private async Task WriteAsync(byte[] data, CancellationToken ct) => await _stream.WriteAsync(data, ct);

    private async Task CloseAsync()
    {
        try
        {
            client.Client.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        await _stream.DisposeAsync();
        client.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "devicesim adb: a session crashed")]
    private static partial void LogSessionCrashed(ILogger logger, Exception exception);
}
