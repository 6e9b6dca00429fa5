using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Harness.Testing;

/// <summary>
/// A TCP proxy on loopback that forwards 127.0.0.1:<see cref="Port"/> to 127.0.0.1:<c>target</c>
/// and can <see cref="Cut"/> the link: every open connection is reset and new ones are reset as
/// soon as they are accepted, until <see cref="Restore"/>. It stands for a network partition
/// between an agent and the server.
/// </summary>
public sealed class LoopbackProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<int, (TcpClient In, TcpClient Out)> _links = new();
    private readonly Task _accepting;
    private int _next;
    private volatile bool _cut;

    public LoopbackProxy(int target, int? port = null)
    {
        _target = target;
        _listener = new TcpListener(IPAddress.Loopback, port ?? 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}";
    public bool IsCut => _cut;

    /// <summary>Connections refused (reset on accept) while the link was cut.</summary>
    public int Refused { get; private set; }

    /// <summary>Drops every open connection and refuses new ones.</summary>
    public void Cut()
    {
        _cut = true;
        foreach (var (id, link) in _links)
        {
            Reset(link.In);
            Reset(link.Out);
            _links.TryRemove(id, out _);
        }
    }

    public void Restore() => _cut = false;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            if (_cut)
            {
                Refused++;
                Reset(client);
                continue;
            }
            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(TcpClient incoming)
    {
        var outgoing = new TcpClient();
        var id = Interlocked.Increment(ref _next);
        try
        {
            await outgoing.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
            _links[id] = (incoming, outgoing);
            if (_cut)
            {
                // Cut while connecting: this link must not slip through.
                return;
            }
            var a = incoming.GetStream();
            var b = outgoing.GetStream();
            // Whichever direction ends first ends the link, like a real connection closing.
            await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
        }
        catch (Exception)
        {
            // A reset, a refused target or the proxy stopping: the link is gone either way.
        }
        finally
        {
            _links.TryRemove(id, out _);
            Reset(incoming);
            Reset(outgoing);
        }
    }

    /// <summary>Closes with RST rather than FIN, so the peer sees the connection break, not end.</summary>
    private static void Reset(TcpClient client)
    {
        try
        {
            client.Client.LingerState = new LingerOption(true, 0);
            client.Close();
        }
        catch (Exception)
        {
            // Already closed.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Cut();
        try
        {
            await _accepting;
        }
        catch (Exception)
        {
            // Stopping.
        }
        _stop.Dispose();
    }
}
