using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Harness.Contracts.Runs;
using Harness.Server.Data;
using Harness.Server.Security;
using Harness.Server.Tests.Features.Runs;
using Harness.Testing;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Harness.Server.Tests.Faults;

/// <summary>
/// Issue 7's hostile corpus: malformed JSON, wrong types, deep nesting, a 50 MB body, invalid
/// workflow DSL, weird and oversized headers, path tricks, NUL bytes, SQL-looking strings and
/// odd unicode, sent to every endpoint the server maps (read from its endpoint data source, so a
/// new endpoint is covered without touching this test). No response may be a 5xx, and a rejected
/// request must leave every table and the artifact store exactly as they were.
/// </summary>
public abstract class HostileInputTests(string provider, ITestOutputHelper output) : RunTest(provider)
{
    private const string Sql = "'; DROP TABLE runs; --";
    private const string Traversal = "../../etc/passwd";

    // Values that go into route parameters, query strings and JSON fields.
    private static readonly string[] HostileStrings =
    [
        Traversal, "..%2f..%2fetc%2fpasswd", "%2e%2e/%2e%2e/etc/passwd", "..\\..\\windows\\win.ini", "/etc/passwd",
        "a\0b", Sql, "1 OR 1=1", "\u202Egnp.exe", "💥\uFEFF\u200B", "ǅ̶̡̛̞", new string('x', 5000), "", " ", "null", "-1",
        "99999999999999999999999", "NaN", "{{vars.x}}", "${jndi:ldap://127.0.0.1/x}",
    ];

    // Thousands of requests: logging each one (and each SQL command) to the console would cost more than the requests themselves.
    protected override IDictionary<string, string?> Configuration => new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware"] = "Error",
    };

    // Route parameters get the subset that matters for paths; the rest is covered by the query strings.
    private static readonly string[] RouteStrings = [Traversal, "%2e%2e/%2e%2e/etc/passwd", "a\0b", Sql, "💥\u202E", new string('x', 3000), "-1"];

    [Fact]
    public async Task EveryEndpoint_HostileInputs_NeverAnswer5xx_AndRejectedOnesChangeNothing()
    {
        // Something to aim at: an agent with devices, a workflow, a run with device tasks.
        var agentKey = await FarmAsync("PC-HOSTILE", 3);
        var workflow = await PushAsync(Capture);
        var run = await RunAsync(workflow.WorkflowId, new RunTarget(All: true));
        var endpoints = Endpoints();
        Assert.True(endpoints.Count >= 40, $"only {endpoints.Count} endpoints found; the data source should list the whole API");

        var failures = new List<string>();
        var perEndpoint = new Dictionary<string, int>();
        var statuses = new SortedDictionary<int, int>();
        var total = 0;
        var stored = await DigestAsync();
        using var operatorClient = Client(TestServer.AdminToken);
        using var agentClient = Client(agentKey);
        foreach (var endpoint in endpoints)
        {
            var client = endpoint.Agent ? agentClient : operatorClient;
            var key = $"{endpoint.Method} {endpoint.Pattern}";
            foreach (var (name, request) in Requests(endpoint, run.RunId, workflow.WorkflowId))
            {
                using (request)
                {
                    int status;
                    try
                    {
                        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
                        status = (int)response.StatusCode;
                        if (status >= 500)
                        {
                            failures.Add($"{key} [{name}] → {status}: {await ReadSomeAsync(response)}");
                        }
                    }
                    catch (HttpRequestException) when (name == "huge-body")
                    {
                        // Kestrel may answer 413 and close before the client has sent 50 MB; that is a refusal, not a fault.
                        status = 0;
                    }
                    catch (OperationCanceledException)
                    {
                        failures.Add($"{key} [{name}] → no answer within 60 s");
                        continue;
                    }
                    total++;
                    perEndpoint[key] = perEndpoint.GetValueOrDefault(key) + 1;
                    statuses[status] = statuses.GetValueOrDefault(status) + 1;
                    // One digest per request: after a rejection it must equal the last one; after a success it is the new baseline.
                    var after = await DigestAsync();
                    if (status is 0 or (>= 400 and < 500) && after != stored)
                    {
                        failures.Add($"{key} [{name}] was rejected with {status} but changed what is stored");
                    }
                    stored = after;
                }
            }
        }

        output.WriteLine($"{Provider}: {total} hostile requests to {endpoints.Count} endpoints; statuses {string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}"))}");
        foreach (var (key, count) in perEndpoint)
        {
            output.WriteLine($"  {count,4}  {key}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} failures:\n{string.Join('\n', failures.Take(80))}");
    }

    /// <summary>A client that sends non-ASCII header bytes as UTF-8 (the default refuses to) and shows redirects instead of following them.</summary>
    private HttpClient Client(string token)
    {
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 };
        var client = new HttpClient(handler) { BaseAddress = Server.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private sealed record Target(string Method, string Pattern, IReadOnlyList<string> Parameters, bool Agent);

    /// <summary>Every route the server maps with an HTTP method; destructive ones last so the rest still find their targets.</summary>
    private List<Target> Endpoints()
    {
        var source = Server.Services.GetRequiredService<EndpointDataSource>();
        var targets = new List<Target>();
        foreach (var endpoint in source.Endpoints.OfType<RouteEndpoint>())
        {
            // A route with no method (the workspace proxy's catch-all) answers any method: try the two that matter.
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods is { Count: > 0 } m ? m : ["GET", "POST"];
            var agent = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == HarnessAuth.AgentPolicy);
            var pattern = "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/');
            var parameters = endpoint.RoutePattern.Parameters.Select(p => p.Name).ToList();
            targets.AddRange(methods.Where(m => m != "OPTIONS" && m != "HEAD").Select(m => new Target(m, pattern, parameters, agent)));
        }
        return targets
            .DistinctBy(t => (t.Method, t.Pattern))
            .OrderBy(t => t.Method == "DELETE" || t.Pattern.Contains("revoke", StringComparison.Ordinal) || t.Pattern.Contains("rotate-key", StringComparison.Ordinal))
            .ThenBy(t => t.Pattern, StringComparer.Ordinal)
            .ThenBy(t => t.Method, StringComparer.Ordinal)
            .ToList();
    }

    private static IEnumerable<(string Name, HttpRequestMessage Request)> Requests(Target endpoint, Guid runId, Guid workflowId)
    {
        var method = new HttpMethod(endpoint.Method);
        var path = Fill(endpoint, p => p switch
        {
            _ when endpoint.Pattern.StartsWith("/api/runs", StringComparison.Ordinal) => runId.ToString(),
            "workflow" => workflowId.ToString(),
            "agent" => "PC-HOSTILE",
            "deviceId" => "PC-HOSTILE-D01",
            "version" => "1",
            _ => Guid.NewGuid().ToString(),
        });

        // Path tricks in every route parameter, one at a time (escaped so they reach routing as values).
        foreach (var parameter in endpoint.Parameters)
        {
            foreach (var value in RouteStrings)
            {
                var tricked = Fill(endpoint, p => p == parameter ? Uri.EscapeDataString(value) : Guid.NewGuid().ToString());
                yield return ($"route {parameter}={Abbreviate(value)}", new HttpRequestMessage(method, tricked));
            }
            // Unescaped traversal too: the router, not the handler, must be what turns it away.
            yield return ($"route {parameter} raw traversal", new HttpRequestMessage(method, Fill(endpoint, p => p == parameter ? "..%2F..%2Fetc%2Fpasswd" : "x")));
        }

        // Query strings every list, filter and upload endpoint might read.
        foreach (var value in HostileStrings)
        {
            var v = Uri.EscapeDataString(value);
            var query = $"?limit={v}&cursor={v}&status={v}&name={v}&run_id={v}&device_id={v}&event_id={v}&step_id={v}&kind={v}&taken_at={v}&node={v}&q={v}&since={v}&after={v}";
            yield return ($"query {Abbreviate(value)}", new HttpRequestMessage(method, path + query));
        }
        // An artifact upload aimed at a real task, with traversal in every name it takes.
        yield return ("query artifact traversal", new HttpRequestMessage(method,
            $"{path}?event_id={Uri.EscapeDataString(Traversal)}&run_id={runId}&device_id=PC-HOSTILE-D01&step_id=%2e%2e%2f%2e%2e%2f&kind=..%2f..%2fx")
        { Content = Bytes("not really a png") });

        // Weird and oversized headers.
        yield return ("header 64 KB", WithHeader(method, path, "X-Padding", new string('a', 64 * 1024)));
        yield return ("header SQL", WithHeader(method, path, "X-Request-Id", Sql));
        yield return ("header traversal", WithHeader(method, path, "X-Node-Auth", Traversal));
        yield return ("header unicode", WithHeader(method, path, "X-Trace", "💥\u202E"));
        yield return ("header bad auth", WithAuthorization(method, path, "Bearer " + Sql));
        yield return ("header empty bearer", WithAuthorization(method, path, "Bearer"));
        yield return ("header basic auth", WithAuthorization(method, path, "Basic Og=="));
        yield return ("header content-type", new HttpRequestMessage(method, path) { Content = Typed("{}", "application/json; charset=ebcdic") });
        yield return ("header accept", WithHeader(method, path, "Accept", "*/*;q=banana"));

        if (method == HttpMethod.Get || method == HttpMethod.Delete)
        {
            yield break;
        }
        foreach (var (name, body) in Bodies())
        {
            yield return (name, new HttpRequestMessage(method, path) { Content = Typed(body, "application/json") });
        }
        yield return ("text/plain body", new HttpRequestMessage(method, path) { Content = Typed("""{"name":"x"}""", "text/plain") });
        yield return ("form body", new HttpRequestMessage(method, path) { Content = new FormUrlEncodedContent([new("name", Sql)]) });
        yield return ("invalid utf-8", new HttpRequestMessage(method, path) { Content = JsonBytes([0x7B, 0x22, 0x6E, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0xFF, 0x22, 0x7D]) });
        yield return ("huge-body", new HttpRequestMessage(method, path) { Content = new HugeJson(50 * 1024 * 1024) });
    }

    private static IEnumerable<(string Name, string Body)> Bodies()
    {
        yield return ("truncated json", """{"name": "x", "steps": [""");
        yield return ("not json", "<?xml version=\"1.0\"?><run/>");
        yield return ("empty body", "");
        yield return ("json null", "null");
        yield return ("json array", "[1,2,3]");
        yield return ("json string", "\"hello\"");
        yield return ("trailing garbage", """{"name":"x"} trailing""");
        yield return ("duplicate keys", """{"name":"a","name":"b"}""");
        yield return ("comments", """{/* hi */ "name":"x"}""");
        yield return ("deep arrays", new string('[', 100_000) + new string(']', 100_000));
        yield return ("deep objects", string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000));
        yield return ("wrong types", """
            {"name": 1, "steps": "x", "workflow_id": true, "run_id": [], "device_id": {}, "target": 5, "concurrency": "many",
             "vars": [1], "events": "x", "devices": {"x": 1}, "free_slots": "x", "wait_ms": -1e308, "holds": 7, "subject": false,
             "image": 1, "command": {}, "env": [], "timeout_sec": "x", "role": 1, "node_id": 2, "labels": "x", "runtimes": [1]}
            """);
        yield return ("huge numbers", """{"concurrency": 1e400, "free_slots": 99999999999999999999, "wait_ms": -99999999999, "version": 1.5e308}""");
        foreach (var (label, value) in new[] { ("sql", Sql), ("traversal", Traversal), ("nul", "a\\u0000b"), ("lone surrogate", "\\ud800"), ("rtl", "\\u202Eexe.png") })
        {
            yield return ($"strings {label}", """
                {"name": "VALUE", "workflow_id": "VALUE", "run_id": "VALUE", "device_id": "VALUE", "subject": "VALUE",
                 "node_id": "VALUE", "event_id": "VALUE", "image": "VALUE", "command": ["VALUE"], "role": "VALUE",
                 "steps": [{"id": "VALUE", "type": "VALUE", "params": {"name": "VALUE", "path": "VALUE"}}],
                 "target": {"devices": ["VALUE"], "nodes": ["VALUE"], "labels": ["VALUE"]},
                 "events": [{"event_id": "VALUE", "type": "VALUE", "run_id": "VALUE", "device_id": "VALUE"}]}
                """.Replace("VALUE", value, StringComparison.Ordinal));
        }
        // Workflow DSL that parses as JSON but makes no sense.
        yield return ("dsl unknown step", """{"name":"w","steps":[{"id":"a","type":"teleport"}]}""");
        yield return ("dsl duplicate ids", """{"name":"w","steps":[{"id":"a","type":"preflight"},{"id":"a","type":"preflight"}]}""");
        yield return ("dsl no steps", """{"name":"w","steps":[]}""");
        yield return ("dsl null step", """{"name":"w","steps":[null]}""");
        yield return ("dsl template injection", """{"name":"w","steps":[{"id":"a","type":"input_text","params":{"text":"{{{{vars.x}}}}{{env.PATH}}{{../../x}}"}}]}""");
        yield return ("dsl 10k steps", "{\"name\":\"w\",\"steps\":[" + string.Join(',', Enumerable.Range(0, 10_000).Select(i => $"{{\"id\":\"s{i}\",\"type\":\"preflight\"}}")) + "]}");
        yield return ("dsl bad params", """{"name":"w","steps":[{"id":"a","type":"screenshot","params":{"name":{"deep":[1,2,{"x":null}]}}}]}""");
    }

    private static string Fill(Target endpoint, Func<string, string> value)
    {
        var path = endpoint.Pattern;
        foreach (var parameter in endpoint.Parameters)
        {
            path = System.Text.RegularExpressions.Regex.Replace(path, $@"\{{\**{parameter}(:[^}}]*)?\??\}}", value(parameter).Replace("$", "$$", StringComparison.Ordinal));
        }
        return path;
    }

    private static HttpRequestMessage WithHeader(HttpMethod method, string path, string name, string value)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }

    private static HttpRequestMessage WithAuthorization(HttpMethod method, string path, string value)
    {
        // Replaces the client's own credentials for this request only.
        var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation("Authorization", value);
        return request;
    }

    private static StringContent Typed(string body, string contentType)
    {
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType.Contains("ebcdic", StringComparison.Ordinal) ? "application/json" : contentType);
        if (contentType.Contains("ebcdic", StringComparison.Ordinal))
        {
            content.Headers.ContentType.CharSet = "ebcdic";
        }
        return content;
    }

    private static ByteArrayContent JsonBytes(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static ByteArrayContent Bytes(string text)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        return content;
    }

    private static string Abbreviate(string value) =>
        value.Length > 24 ? $"{value[..12].Replace("\0", "\\0", StringComparison.Ordinal)}…({value.Length})" : value.Replace("\0", "\\0", StringComparison.Ordinal);

    private static async Task<string> ReadSomeAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        return body.Length > 400 ? body[..400] : body;
    }

    private async Task<string> DigestAsync()
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return await DatabaseDigest.ComputeAsync(scope.ServiceProvider.GetRequiredService<HarnessDbContext>(), Server.ArtifactsRoot);
    }

    /// <summary>A 50 MB JSON document generated as it is sent, so the test holds none of it in memory.</summary>
    private sealed class HugeJson : HttpContent
    {
        private readonly long _length;

        public HugeJson(long length)
        {
            _length = length;
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var head = "{\"name\":\""u8.ToArray();
            var tail = "\"}"u8.ToArray();
            var chunk = new byte[64 * 1024];
            Array.Fill(chunk, (byte)'a');
            await stream.WriteAsync(head);
            var left = _length - head.Length - tail.Length;
            while (left > 0)
            {
                var n = (int)Math.Min(left, chunk.Length);
                await stream.WriteAsync(chunk.AsMemory(0, n));
                left -= n;
            }
            await stream.WriteAsync(tail);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _length;
            return true;
        }
    }
}

public sealed class HostileInputTests_Sqlite(ITestOutputHelper output) : HostileInputTests(Providers.Sqlite, output);

public sealed class HostileInputTests_Postgres(ITestOutputHelper output) : HostileInputTests(Providers.Postgres, output);
