using Harness.Contracts.Runtime;
using Harness.Runtimes.Kubernetes;
using Harness.Testing.Kubernetes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Harness.Runtimes.Kubernetes.Tests;

/// <summary>A fake API server with the archives PVC in place, and runtimes of named agents talking to it.</summary>
public sealed class KubernetesRuntimeFixture : IAsyncDisposable
{
    public const string Namespace = "harness";
    public const string Agent = "agent-1";
    public const string Image = "nginx:1.27";
    public const string CrashingImage = "crasher:1.0";

    private readonly List<KubernetesWorkspaceRuntime> _runtimes = [];

    private KubernetesRuntimeFixture(FakeKubernetesApiServer api, string archiveDir)
    {
        Api = api;
        ArchiveDir = archiveDir;
    }

    public FakeKubernetesApiServer Api { get; }
    public string ArchiveDir { get; }

    public static async Task<KubernetesRuntimeFixture> StartAsync()
    {
        var api = await FakeKubernetesApiServer.StartAsync();
        api.KnownImages[Image] = true;
        api.KnownImages[CrashingImage] = true;
        api.KnownImages["busybox:1.37"] = true;
        api.CrashingImages[CrashingImage] = true;
        var archiveDir = Directory.CreateTempSubdirectory("harness-k8s-archives-").FullName;
        // What deploy/k8s/base/agent does: the shared PVC exists and is mounted at ArchiveDir in the agent.
        api.MountClaim(Namespace, "harness-archives", archiveDir);
        return new KubernetesRuntimeFixture(api, archiveDir);
    }

    public KubernetesRuntimeOptions Options(string agent = Agent, Action<KubernetesRuntimeOptions>? configure = null)
    {
        var options = new KubernetesRuntimeOptions
        {
            ApiServerUrl = Api.Url.ToString(),
            Namespace = Namespace,
            AgentName = agent,
            ArchiveDir = ArchiveDir,
            PollInterval = TimeSpan.FromMilliseconds(10),
            StartTimeout = TimeSpan.FromSeconds(5),
            DeleteTimeout = TimeSpan.FromSeconds(5),
            JobTimeout = TimeSpan.FromSeconds(30),
            RequestTimeout = TimeSpan.FromSeconds(5),
        };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A new runtime (as a restarted agent would make) for <paramref name="agent"/>.</summary>
    public KubernetesWorkspaceRuntime Runtime(string agent = Agent, Action<KubernetesRuntimeOptions>? configure = null)
    {
        var runtime = new KubernetesWorkspaceRuntime(
            Microsoft.Extensions.Options.Options.Create(Options(agent, configure)),
            NullLogger<KubernetesWorkspaceRuntime>.Instance,
            TimeProvider.System);
        _runtimes.Add(runtime);
        return runtime;
    }

    public static InstanceSpec Spec(string image = Image, int port = 8080, string mountPath = "/workspace", ResourceLimits? resources = null,
        IReadOnlyDictionary<string, string>? env = null) =>
        new(image, port, env ?? new Dictionary<string, string>(), mountPath, resources ?? new ResourceLimits());

    public async ValueTask DisposeAsync()
    {
        foreach (var runtime in _runtimes)
        {
            runtime.Dispose();
        }
        await Api.DisposeAsync();
        try
        {
            Directory.Delete(ArchiveDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Each test class gets a fresh fake API server per test.</summary>
public abstract class KubernetesRuntimeTestBase : IAsyncLifetime
{
    protected KubernetesRuntimeFixture Fixture { get; private set; } = null!;
    protected FakeKubernetesApiServer Api => Fixture.Api;
    protected KubernetesWorkspaceRuntime Runtime { get; private set; } = null!;
    protected static CancellationToken Ct => CancellationToken.None;

    public async Task InitializeAsync()
    {
        Fixture = await KubernetesRuntimeFixture.StartAsync();
        Runtime = Fixture.Runtime();
    }

    public async Task DisposeAsync() => await Fixture.DisposeAsync();
}
