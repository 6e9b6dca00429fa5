namespace Harness.DeviceSim;

public sealed class DeviceSimServerOptions
{
    /// <summary>Where the vendor WebSocket listens; port 0 picks a free one (see <see cref="DeviceSimServer.WsUrl"/>).</summary>
    public string WsUrl { get; set; } = "ws://127.0.0.1:22222";

    /// <summary>The adb server protocol's TCP port on loopback: null for none, 0 for any free port.</summary>
    public int? AdbPort { get; set; }

    /// <summary>The version <c>host:version</c> reports; an adb client restarts a server whose version differs from its own (41 = adb 1.0.41).</summary>
    public int AdbServerVersion { get; set; } = 41;
}
