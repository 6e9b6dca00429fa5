using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Harness.Testing.Kubernetes;

/// <summary>
/// A Kubernetes API server on a loopback port that serves exactly the endpoints the kubernetes runtime
/// calls, with the API's semantics: objects get uid, resourceVersion and creationTimestamp; creating an
/// existing name is 409 AlreadyExists, reading a missing one 404 NotFound (both as <c>kind: Status</c>);
/// lists filter by <c>labelSelector</c>; deleting a pod is graceful and a PVC waits for its pvc-protection
/// finalizer. A controller loop plays scheduler, kubelet, PVC binder and job controller (see
/// <see cref="KnownImages"/>, <see cref="CrashingImages"/>, <see cref="HoldPending"/>). It runs no containers:
/// a pod's HTTP port is never served, so upstream URLs can be asserted, not fetched. Jobs are executed for
/// real: their <c>sh -c</c> script runs on this machine with each PVC mount path replaced by a directory
/// standing for that PVC (<see cref="ClaimDirectory"/>).
/// </summary>
public sealed partial class FakeKubernetesApiServer : IAsyncDisposable
{
    public const string GitVersion = "v1.34.1";
    public const string NodeName = "fake-node-1";

    private readonly object _lock = new();
    private readonly Dictionary<(string Resource, string Namespace, string Name), JsonObject> _objects = new();
    private readonly ConcurrentQueue<FakeApiRequest> _requests = new();
    private readonly Dictionary<string, string> _claimDirectories = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly string _root;
    private WebApplication? _app;
    private CancellationTokenSource? _controllerStop;
    private Task? _controller;
    private long _resourceVersion = 1000;
    private int _nextIp = 10;

    private FakeKubernetesApiServer(TimeProvider time)
    {
        _time = time;
        _root = Directory.CreateTempSubdirectory("harness-fake-k8s-").FullName;
    }

    public Uri Url { get; private set; } = null!;

    /// <summary>Namespaces that exist; creating in another one is 404 as on a cluster.</summary>
    public ConcurrentDictionary<string, bool> Namespaces { get; } = new(StringComparer.Ordinal) { ["harness"] = true, ["default"] = true };

    /// <summary>Images the kubelet can pull; a pod with any other image waits in ErrImagePull, then ImagePullBackOff.</summary>
    public ConcurrentDictionary<string, bool> KnownImages { get; } = new(StringComparer.Ordinal);

    /// <summary>Pulled images whose container exits at once: the pod runs into CrashLoopBackOff.</summary>
    public ConcurrentDictionary<string, bool> CrashingImages { get; } = new(StringComparer.Ordinal);

    /// <summary>While true, scheduled pods stay Pending in ContainerCreating (a slow image pull).</summary>
    public bool HoldPending { get; set; }

    /// <summary>While true, deleted pods stay terminating (a container that ignores SIGTERM, a stuck finalizer).</summary>
    public bool HoldTermination { get; set; }

    /// <summary>While true, jobs stay active and are not executed.</summary>
    public bool HoldJobs { get; set; }

    /// <summary>When set, every request is answered with this status (a Status object) instead.</summary>
    public HttpStatusCode? FailAllRequests { get; set; }

    /// <summary>How often the controller loop advances pods, PVCs and jobs.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromMilliseconds(15);

    /// <summary>Every request, in order: method, path, query, and the RBAC verb/group/resource it needs.</summary>
    public IReadOnlyList<FakeApiRequest> Requests => _requests.ToArray();

    public void ClearRequests() => _requests.Clear();

    public static async Task<FakeKubernetesApiServer> StartAsync(TimeProvider? time = null)
    {
        var server = new FakeKubernetesApiServer(time ?? TimeProvider.System);
        await server.StartHostAsync();
        return server;
    }

    /// <summary>
    /// The directory standing for a PVC's storage when jobs run. Workspace PVCs get one under the fake's
    /// temp root when they are created; <see cref="MountClaim"/> maps another (the shared archives PVC) to a directory the test chooses.
    /// </summary>
    public string? ClaimDirectory(string claimName)
    {
        lock (_lock)
        {
            return _claimDirectories.GetValueOrDefault(claimName);
        }
    }

    /// <summary>Creates the PVC (as an operator's manifest would) and says which directory holds its data.</summary>
    public void MountClaim(string @namespace, string claimName, string directory)
    {
        Directory.CreateDirectory(directory);
        var claim = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "PersistentVolumeClaim",
            ["metadata"] = new JsonObject { ["name"] = claimName },
            ["spec"] = new JsonObject
            {
                ["accessModes"] = new JsonArray("ReadWriteMany"),
                ["resources"] = new JsonObject { ["requests"] = new JsonObject { ["storage"] = "10Gi" } },
            },
        };
        lock (_lock)
        {
            Admit(Resources["persistentvolumeclaims"], @namespace, claim);
            _objects[("persistentvolumeclaims", @namespace, claimName)] = claim;
            _claimDirectories[claimName] = directory;
        }
    }

    /// <summary>A copy of the stored object, or null.</summary>
    public JsonObject? Get(string resource, string @namespace, string name)
    {
        lock (_lock)
        {
            return _objects.TryGetValue((resource, @namespace, name), out var value) ? (JsonObject)value.DeepClone() : null;
        }
    }

    /// <summary>Copies of every stored object of a resource in a namespace.</summary>
    public IReadOnlyList<JsonObject> All(string resource, string @namespace)
    {
        lock (_lock)
        {
            return _objects.Where(o => o.Key.Resource == resource && o.Key.Namespace == @namespace)
                .Select(o => (JsonObject)o.Value.DeepClone()).ToList();
        }
    }

    /// <summary>Lets a test put a pod into a state the controller does not produce (Succeeded, Failed, Unknown).</summary>
    public void UpdatePod(string @namespace, string name, Action<JsonObject> update)
    {
        lock (_lock)
        {
            var pod = _objects[("pods", @namespace, name)];
            update(pod);
            pod["metadata"]!["resourceVersion"] = NextResourceVersion();
        }
    }

    /// <summary>The API server goes away (connections are refused) until <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    /// <summary>Serves again on the same port with the same objects.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await StartHostAsync(Url.Port);
    }

    public async ValueTask DisposeAsync()
    {
        if (_controllerStop is not null)
        {
            await _controllerStop.CancelAsync();
            try
            {
                await _controller!;
            }
            catch (OperationCanceledException)
            {
            }
            _controllerStop.Dispose();
        }
        await StopAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task StartHostAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        _app = builder.Build();
        _app.Run(HandleAsync);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Url = new Uri(address);
        if (_controller is null)
        {
            _controllerStop = new CancellationTokenSource();
            _controller = Task.Run(() => ControllerLoopAsync(_controllerStop.Token));
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var route = Route.Parse(request.Method, request.Path.Value ?? "/", request.Query["watch"] is ["true" or "1"]);
        _requests.Enqueue(new FakeApiRequest(request.Method, request.Path.Value ?? "/", request.QueryString.Value ?? "",
            route?.Verb, route?.Group, route?.Resource, route?.Name));

        if (FailAllRequests is { } failure)
        {
            await WriteAsync(context, (int)failure, StatusObject((int)failure, failure.ToString(), $"fake API server answers {(int)failure}", null, null));
            return;
        }
        if (request.Path.Value is "/version" or "/version/" && request.Method == "GET")
        {
            await WriteAsync(context, 200, new JsonObject
            {
                ["major"] = "1", ["minor"] = "34", ["gitVersion"] = GitVersion, ["gitCommit"] = "fake",
                ["gitTreeState"] = "clean", ["buildDate"] = "2026-09-09T00:00:00Z", ["goVersion"] = "go1.24.6",
                ["compiler"] = "gc", ["platform"] = "linux/amd64",
            });
            return;
        }
        if (route is null || !Resources.TryGetValue(route.Resource, out var type) || type.Group != route.Group)
        {
            await WriteAsync(context, 404, StatusObject(404, "NotFound", "the server could not find the requested resource", null, null));
            return;
        }

        JsonObject? body = null;
        if (route.Verb == "create")
        {
            try
            {
                body = await JsonNode.ParseAsync(request.Body) as JsonObject;
            }
            catch (JsonException e)
            {
                await WriteAsync(context, 400, StatusObject(400, "BadRequest", $"the body of the request was in an unknown format: {e.Message}", null, null));
                return;
            }
        }
        var (status, response) = route.Verb switch
        {
            "list" => List(type, route.Namespace, request.Query["labelSelector"]),
            "get" => Read(type, route.Namespace, route.Name!),
            "create" => Create(type, route.Namespace, body),
            "delete" => Delete(type, route.Namespace, route.Name!, request.Query["gracePeriodSeconds"], request.Query["propagationPolicy"]),
            _ => (405, StatusObject(405, "MethodNotAllowed", $"{route.Verb} is not supported by this fake", null, null)),
        };
        await WriteAsync(context, status, response);
    }

    private static async Task WriteAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    private string NextResourceVersion() => Interlocked.Increment(ref _resourceVersion).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private string Now() => _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>One request to the fake: what was called, and the RBAC rule it needs (null for non-resource URLs like /version).</summary>
public sealed record FakeApiRequest(string Method, string Path, string Query, string? Verb, string? Group, string? Resource, string? Name)
{
    /// <summary>The value of one query parameter, unescaped.</summary>
    public string? Parameter(string name) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(Query).TryGetValue(name, out var value) ? value.ToString() : null;

    public override string ToString() => $"{Method} {Path}{Query}";
}
