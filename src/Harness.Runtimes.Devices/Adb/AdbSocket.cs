using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Harness.Runtimes.Devices.Adb;

/// <summary>
/// One connection to the adb server's smart socket: requests are 4 hex digits of length and
/// the text; the server answers <c>OKAY</c>, or <c>FAIL</c> plus a length-prefixed message.
/// After <c>host:transport:&lt;serial&gt;</c> the same connection carries one device service.
/// </summary>
internal sealed class AdbSocket : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly string _endpoint;

    private AdbSocket(TcpClient client, string endpoint)
    {
        _client = client;
        _stream = client.GetStream();
        _endpoint = endpoint;
    }

    public static async Task<AdbSocket> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(host, port, cancellationToken);
            return new AdbSocket(client, $"{host}:{port}");
        }
        catch (SocketException ex)
        {
            client.Dispose();
            throw new DeviceException(DeviceErrorKind.BackendDown,
                $"Cannot reach the adb server at {host}:{port}: {ex.Message}. Start it with `adb start-server` (Devices:AdbHost, Devices:AdbPort).", ex);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Sends a request and reads OKAY; a FAIL becomes a <see cref="DeviceException"/> of the matching kind.</summary>
    public async Task RequestAsync(string request, CancellationToken cancellationToken)
    {
        var payload = Encoding.UTF8.GetBytes(request);
        var frame = Encoding.ASCII.GetBytes(payload.Length.ToString("x4", CultureInfo.InvariantCulture)).Concat(payload).ToArray();
        await Guard(async () => await _stream.WriteAsync(frame, cancellationToken));
        var status = await ReadAsciiAsync(4, cancellationToken);
        switch (status)
        {
            case "OKAY":
                return;
            case "FAIL":
                var message = await ReadLengthPrefixedAsync(cancellationToken);
                throw AdbErrors.FromFailure(request, message);
            default:
                throw new DeviceException(DeviceErrorKind.BackendDown, $"The adb server at {_endpoint} answered '{status}' to {request}; is that an adb server?");
        }
    }

    public async Task<string> ReadLengthPrefixedAsync(CancellationToken cancellationToken)
    {
        var hex = await ReadAsciiAsync(4, cancellationToken);
        if (!int.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var length))
        {
            throw new DeviceException(DeviceErrorKind.BackendDown, $"The adb server at {_endpoint} sent a bad length '{hex}'.");
        }
        var bytes = new byte[length];
        await ReadExactlyAsync(bytes, cancellationToken);
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Everything until the other side closes (exec: and legacy services).</summary>
    public async Task<byte[]> ReadToEndAsync(CancellationToken cancellationToken)
    {
        using var all = new MemoryStream();
        await Guard(async () => await _stream.CopyToAsync(all, cancellationToken));
        return all.ToArray();
    }

    /// <summary>Fills the buffer; false if the connection ended before the first byte.</summary>
    public async Task<bool> TryReadExactlyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (buffer.IsEmpty)
        {
            return true;
        }
        var read = 0;
        await Guard(async () =>
        {
            while (read < buffer.Length)
            {
                var n = await _stream.ReadAsync(buffer[read..], cancellationToken);
                if (n == 0)
                {
                    break;
                }
                read += n;
            }
        });
        if (read == 0)
        {
            return false;
        }
        return read == buffer.Length
            ? true
            : throw new DeviceException(DeviceErrorKind.Unavailable, $"The connection through {_endpoint} ended mid-message; the device went away.");
    }

    public async Task ReadExactlyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (!await TryReadExactlyAsync(buffer, cancellationToken))
        {
            throw new DeviceException(DeviceErrorKind.Unavailable, $"The connection through {_endpoint} ended early; the device went away.");
        }
    }

    public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        Guard(async () => await _stream.WriteAsync(data, cancellationToken));

    /// <summary>Writes one shell-protocol-v2 packet: id byte, little-endian length, data.</summary>
    public Task WritePacketAsync(byte id, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var packet = new byte[5 + data.Length];
        packet[0] = id;
        BinaryPrimitives.WriteInt32LittleEndian(packet.AsSpan(1), data.Length);
        data.CopyTo(packet.AsMemory(5));
        return WriteAsync(packet, cancellationToken);
    }

    private async Task<string> ReadAsciiAsync(int length, CancellationToken cancellationToken)
    {
        var bytes = new byte[length];
        if (!await TryReadExactlyAsync(bytes, cancellationToken))
        {
            throw new DeviceException(DeviceErrorKind.BackendDown, $"The adb server at {_endpoint} closed the connection without answering.");
        }
        return Encoding.ASCII.GetString(bytes);
    }

    /// <summary>A connection that breaks under us means the device (or adb) went away.</summary>
    private async Task Guard(Func<Task> io)
    {
        try
        {
            await io();
        }
        catch (IOException ex)
        {
            throw new DeviceException(DeviceErrorKind.Unavailable, $"The connection through {_endpoint} broke: {ex.Message}", ex);
        }
    }

    public ValueTask DisposeAsync()
    {
        _stream.Dispose();
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
