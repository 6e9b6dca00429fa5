using System.Net.Http.Json;
using System.Net.Sockets;
using Xunit;

namespace Harness.Testing;

/// <summary>
/// The real Docker engine the Docker runtime's tests run against: the private dockerd that test.sh starts
/// (scripts/lib/docker.sh, no bridge, loopback only) and names in <c>HARNESS_TEST_DOCKER_HOST</c>. Without it the
/// tests fail with instructions rather than skip, so a CI run can never pass them by not running them.
/// </summary>
public sealed class DockerEngine : IAsyncLifetime
{
    public const string HostVariable = "HARNESS_TEST_DOCKER_HOST";

    /// <summary>busybox httpd serving the workspace volume (mounted at /workspace) on $HOST:$PORT; built by build_test_images.</summary>
    public const string HttpImage = "harness-test/http:1";

    public const string HowToStart =
        "Run ./test.sh, or start a private engine for this shell with: " +
        "source scripts/lib/docker.sh && ensure_docker && start_private_dockerd && build_test_images " +
        "(stop it afterwards with stop_private_dockerd).";

    private string? _endpoint;

    /// <summary><c>unix:///…/docker.sock</c> of the engine.</summary>
    public string Endpoint => _endpoint ?? throw new InvalidOperationException("the engine fixture is not initialised");

    public async Task InitializeAsync()
    {
        var endpoint = Environment.GetEnvironmentVariable(HostVariable);
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            throw new InvalidOperationException($"{HostVariable} is not set, so there is no Docker engine to test against. {HowToStart}");
        }
        if (!endpoint.StartsWith("unix://", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{HostVariable}={endpoint}: the tests use a private engine on a unix socket (unix:///path). {HowToStart}");
        }
        using var http = CreateHttpClient(endpoint);
        try
        {
            using var ping = await http.GetAsync("/_ping");
            ping.EnsureSuccessStatusCode();
        }
        catch (HttpRequestException e)
        {
            throw new InvalidOperationException($"{HostVariable}={endpoint} does not answer ({e.Message}). {HowToStart}", e);
        }
        using var image = await http.GetAsync($"/images/{HttpImage}/json");
        if (!image.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"the engine at {endpoint} has no image {HttpImage}. {HowToStart}");
        }
        _endpoint = endpoint;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>The engine's own view of a container, as JSON, for assertions on what the runtime created.</summary>
    public async Task<System.Text.Json.JsonElement> InspectContainerAsync(string name)
    {
        using var http = CreateHttpClient(Endpoint);
        return await http.GetFromJsonAsync<System.Text.Json.JsonElement>($"/containers/{name}/json");
    }

    /// <summary>An HTTP client for the Engine API on a unix socket (the path of <paramref name="endpoint"/>).</summary>
    public static HttpClient CreateHttpClient(string endpoint)
    {
        var socketPath = new Uri(endpoint).AbsolutePath;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri("http://docker"), Timeout = TimeSpan.FromSeconds(30) };
    }
}
