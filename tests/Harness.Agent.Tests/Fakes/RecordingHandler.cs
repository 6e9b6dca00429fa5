using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Threading.Channels;

namespace Harness.Agent.Tests.Fakes;

/// <summary>The network edge: records every request (path, query, body) and answers with <c>responder</c>.</summary>
internal sealed class RecordingHandler(Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>> responder) : HttpMessageHandler
{
    private readonly Channel<RecordedRequest> _requests = Channel.CreateUnbounded<RecordedRequest>();

    public RecordingHandler(Func<RecordedRequest, HttpResponseMessage> responder) : this((r, _) => Task.FromResult(responder(r)))
    {
    }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var recorded = new RecordedRequest(request.RequestUri!.AbsolutePath, Uri.UnescapeDataString(request.RequestUri.Query.TrimStart('?')),
            request.Content?.Headers.ContentType?.MediaType, body, request.Headers.Authorization?.Parameter);
        Requests.Enqueue(recorded);
        _requests.Writer.TryWrite(recorded);
        return await responder(recorded, cancellationToken);
    }

    public async Task<RecordedRequest> NextAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _requests.Reader.ReadAsync(timeout.Token);
    }

    public async Task<bool> StaysQuietAsync()
    {
        await Task.Delay(150);
        return !_requests.Reader.TryPeek(out _);
    }

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static HttpResponseMessage Problem(HttpStatusCode status, string detail) =>
        Json($$"""{"status":{{(int)status}},"title":"{{status}}","detail":"{{detail}}"}""", status);
}

internal sealed record RecordedRequest(string Path, string Query, string? ContentType, byte[] Body, string? Bearer)
{
    public string Text => Encoding.UTF8.GetString(Body);
}
