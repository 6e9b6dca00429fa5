using System.Net;
using System.Net.Sockets;

namespace Harness.Runtimes.Devices.Tests;

internal static class FreePort
{
    /// <summary>A loopback port nothing listens on right now (for "backend down").</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
