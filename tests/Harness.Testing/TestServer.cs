using System.Net.Http.Headers;
using Harness.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace Harness.Testing;

/// <summary>
/// A real Harness server on a loopback port (real Kestrel, real HTTP, a real database) with a
/// fake clock the test advances. <see cref="RestartAsync"/> stops it and starts a new one on the same database.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string AdminToken = "test-admin-token-0123456789abcdef";
    public const string EnrollmentSecret = "test-enrollment-secret-0123456789";

    private readonly Dictionary<string, string?> _configuration;
    private WebApplication? _app;

    private readonly bool _ownsDatabase;

    private TestServer(TestDatabase database, Dictionary<string, string?> configuration, bool ownsDatabase = true)
    {
        Database = database;
        _configuration = configuration;
        _ownsDatabase = ownsDatabase;
    }

    /// <summary>A second server replica on this server's database (its own process state, clock and port).</summary>
    public async Task<TestServer> StartReplicaAsync()
    {
        var replica = new TestServer(Database, new Dictionary<string, string?>(_configuration), ownsDatabase: false);
        await replica.StartAppAsync();
        return replica;
    }

    public TestDatabase Database { get; }
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The artifact store's root folder (a temp folder of this server's own).</summary>
    public string ArtifactsRoot => _configuration["Harness:Artifacts:Root"]!;
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("not started");

    /// <summary>Starts a server on a database of its own for <paramref name="provider"/>.</summary>
    public static async Task<TestServer> StartAsync(string provider, IDictionary<string, string?>? configuration = null)
    {
        var database = await TestDatabase.CreateAsync(provider);
        var settings = database.Configuration();
        settings["Harness:AdminToken"] = AdminToken;
        settings["Harness:EnrollmentSecret"] = EnrollmentSecret;
        settings["Harness:Artifacts:Root"] = Directory.CreateTempSubdirectory("harness-artifacts-").FullName;
        foreach (var (key, value) in configuration ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        var server = new TestServer(database, settings);
        await server.StartAppAsync();
        return server;
    }

    private async Task StartAppAsync()
    {
        _app = HarnessServerHost.Build(new ServerHostSettings
        {
            Urls = "http://127.0.0.1:0",
            Configuration = new Dictionary<string, string?>(_configuration),
            ConfigureServices = services => services.Replace(ServiceDescriptor.Singleton<TimeProvider>(Time)),
        });
        await HarnessServerHost.PrepareAsync(_app, CancellationToken.None);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address);
    }

    public async Task RestartAsync()
    {
        await StopAppAsync();
        await StartAppAsync();
    }

    /// <summary>A client with no credentials.</summary>
    public HttpClient Anonymous() => new() { BaseAddress = BaseAddress };

    /// <summary>A client that sends <paramref name="token"/> as its bearer token (the admin token by default).</summary>
    public HttpClient Operator(string token = AdminToken)
    {
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>A client authenticated as an agent, through either header an agent may use.</summary>
    public HttpClient Agent(string key, bool useNodeAuthHeader = false)
    {
        var client = Anonymous();
        if (useNodeAuthHeader)
        {
            client.DefaultRequestHeaders.Add("X-Node-Auth", key);
        }
        else
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    private async Task StopAppAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAppAsync();
        if (!_ownsDatabase)
        {
            return;
        }
        await Database.DisposeAsync();
        if (_configuration.TryGetValue("Harness:Artifacts:Root", out var artifacts) && artifacts is not null && Directory.Exists(artifacts)
            && Path.GetFileName(artifacts).StartsWith("harness-artifacts-", StringComparison.Ordinal))
        {
            Directory.Delete(artifacts, recursive: true);
        }
    }
}
