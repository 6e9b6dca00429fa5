using System.Buffers.Binary;
using System.Text;

namespace Harness.Runtimes.Devices.Adb;

/// <summary>
/// Opens a device service through the adb server, and runs shell commands with the shell v2
/// protocol: packets of one id byte (1 stdout, 2 stderr, 3 exit code), a little-endian length
/// and the data, which is how the exit code of the command gets back to us.
/// </summary>
internal static class AdbShell
{
    public const byte Stdout = 1;
    public const byte Stderr = 2;
    public const byte Exit = 3;
    public const byte CloseStdin = 4;

    public sealed record Result(string Stdout, string Stderr, int ExitCode);

    /// <summary>Connects, selects the device, and opens the service; the caller reads what it sends.</summary>
    public static async Task<AdbSocket> OpenAsync(string host, int port, string serial, string service, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(serial) || serial.Any(char.IsControl))
        {
            throw new DeviceException(DeviceErrorKind.NotFound, $"'{serial}' is not a device serial.");
        }
        var adb = await AdbSocket.ConnectAsync(host, port, cancellationToken);
        try
        {
            await adb.RequestAsync("host:transport:" + serial, cancellationToken);
            await adb.RequestAsync(service, cancellationToken);
            return adb;
        }
        catch
        {
            await adb.DisposeAsync();
            throw;
        }
    }

    public static async Task<Result> RunAsync(string host, int port, string serial, string command, CancellationToken cancellationToken)
    {
        await using var adb = await OpenAsync(host, port, serial, "shell,v2,raw:" + command, cancellationToken);
        await adb.WritePacketAsync(CloseStdin, ReadOnlyMemory<byte>.Empty, cancellationToken);
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        var header = new byte[5];
        while (await adb.TryReadExactlyAsync(header, cancellationToken))
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(1));
            if (length is < 0 or > 64 * 1024 * 1024)
            {
                throw new DeviceException(DeviceErrorKind.Failed, $"{serial}: bad shell packet length {length}.");
            }
            var data = new byte[length];
            await adb.ReadExactlyAsync(data, cancellationToken);
            switch (header[0])
            {
                case Stdout:
                    stdout.Write(data);
                    break;
                case Stderr:
                    stderr.Write(data);
                    break;
                case Exit:
                    return new Result(Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()), data.Length > 0 ? data[0] : 0);
                default:
                    break;
            }
        }
        throw new DeviceException(DeviceErrorKind.Unavailable, $"{serial}: the shell ended without an exit status; the device went away.");
    }
}
