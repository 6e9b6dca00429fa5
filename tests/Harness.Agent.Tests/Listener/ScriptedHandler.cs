using System.Net;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Harness.Agent.Tests.Listener;

/// <summary>
/// Stands in for the network at the edge: fails the first <c>failures</c> requests as a refused
/// connection would, then answers with <c>responder</c>. Each call is recorded with the fake time it was made.
/// </summary>
internal sealed class ScriptedHandler(FakeTimeProvider time, int failures, Func<HttpRequestMessage, HttpResponseMessage> responder) : HttpMessageHandler
{
    private readonly Channel<(DateTimeOffset At, string Path)> _calls = Channel.CreateUnbounded<(DateTimeOffset, string)>();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var n = Interlocked.Increment(ref _count);
        _calls.Writer.TryWrite((time.GetUtcNow(), request.RequestUri!.AbsolutePath));
        if (n <= failures)
        {
            throw new HttpRequestException("Connection refused (127.0.0.1:5080)");
        }
        return Task.FromResult(responder(request));
    }

    /// <summary>Waits (in real time, bounded) for the next call.</summary>
    public async Task<(DateTimeOffset At, string Path)> NextCallAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _calls.Reader.ReadAsync(timeout.Token);
    }

    /// <summary>True when no call arrives within a short real-time window.</summary>
    public async Task<bool> StaysQuietAsync()
    {
        await Task.Delay(100);
        return !_calls.Reader.TryPeek(out _);
    }

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
}
