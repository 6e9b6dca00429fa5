using System.Net;
using System.Text;
using System.Text.Json.Serialization.Metadata;
using Harness.Contracts;

namespace Harness.Cli.Tests.Operator;

/// <summary>
/// The server at the edge of the network: answers scripted per "METHOD /path" (query ignored for
/// matching) and records every request with its body and Authorization header.
/// </summary>
internal sealed class StubApi : HttpMessageHandler
{
    private readonly Dictionary<string, Queue<Func<HttpRequestMessage, HttpResponseMessage>>> _routes = new(StringComparer.Ordinal);

    public List<Recorded> Requests { get; } = [];

    public sealed record Recorded(string Method, string PathAndQuery, string? Authorization, string? Body);

    /// <summary>Answers in turn; the last answer repeats.</summary>
    public StubApi On(string method, string path, Func<HttpRequestMessage, HttpResponseMessage> respond)
    {
        var key = $"{method} {path}";
        if (!_routes.TryGetValue(key, out var queue))
        {
            _routes[key] = queue = new();
        }
        queue.Enqueue(respond);
        return this;
    }

    public StubApi OnJson<T>(string method, string path, T value, JsonTypeInfo<T> type, HttpStatusCode status = HttpStatusCode.OK) =>
        On(method, path, _ => Json(System.Text.Json.JsonSerializer.Serialize(value, type), status));

    public StubApi OnProblem(string method, string path, HttpStatusCode status, string title, string? detail, string? errorsJson = null) =>
        On(method, path, _ => new HttpResponseMessage(status)
        {
            Content = new StringContent(
                $$"""{"type":"about:blank","title":"{{title}}","status":{{(int)status}}{{(detail is null ? "" : $",\"detail\":\"{detail}\"")}}{{(errorsJson is null ? "" : $",\"errors\":{errorsJson}")}}}""",
                Encoding.UTF8, "application/problem+json"),
        });

    public Recorded Single(string method, string path) =>
        Assert.Single(Requests, r => r.Method == method && r.PathAndQuery.Split('?')[0] == path);

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        Requests.Add(new(request.Method.Method, request.RequestUri!.PathAndQuery, request.Headers.Authorization?.ToString(), body));
        var key = $"{request.Method.Method} {request.RequestUri.AbsolutePath}";
        if (_routes.TryGetValue(key, out var queue) && queue.Count > 0)
        {
            var respond = queue.Count > 1 ? queue.Dequeue() : queue.Peek();
            var response = respond(request);
            response.RequestMessage ??= request;
            return response;
        }
        // What ASP.NET Core answers for a route it does not have: 404, empty body.
        return new HttpResponseMessage(HttpStatusCode.NotFound) { RequestMessage = request, Content = new StringContent("") };
    }

    public static HarnessJsonContext Wire => HarnessJsonContext.Default;
}
