using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Harness.Runtimes.Devices.Simulator;
using Microsoft.Extensions.Logging;

namespace Harness.DeviceSim.Adb;

/// <summary>The adb server's smart-socket protocol on loopback, over the simulated farm; one session per connection.</summary>
internal sealed partial class AdbSimServer(SimulatedFarm farm, int port, int serverVersion, ILogger logger) : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, port);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, bool> _sessions = new();
    private Task? _acceptLoop;

    public int Port { get; private set; }

    public void Start()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            var session = Task.Run(() => new AdbSimSession(client, farm, serverVersion, logger).RunAsync(_stopping.Token));
            _sessions[session] = true;
            _ = session.ContinueWith(t => _sessions.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        if (_acceptLoop is not null)
        {
            await _acceptLoop;
        }
        await Task.WhenAll(_sessions.Keys);
        _listener.Dispose();
        _stopping.Dispose();
    }
}
