using System.Net;
using Harness.Contracts.Runtime;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Harness.Runtimes.Kubernetes;

/// <summary>
/// Workspaces as Kubernetes objects in one namespace: a Pod and a Service <c>harness-ws-{id}</c>,
/// a PVC <c>harness-vol-{id}</c>, and a Job per archive or restore. Every object carries
/// <see cref="RuntimeLabels"/>, so a restarted agent lists what it made by label selector.
/// </summary>
public sealed partial class KubernetesWorkspaceRuntime : IWorkspaceRuntime, IDisposable
{
    /// <summary>A Service name is a DNS-1035 label (63 characters); <c>harness-ws-</c> takes 11 of them.</summary>
    public const int MaxWorkspaceIdLength = 63 - 11;

    private readonly KubernetesRuntimeOptions _options;
    private readonly KubernetesObjects _objects;
    private readonly ILogger<KubernetesWorkspaceRuntime> _logger;
    private readonly TimeProvider _time;
    private readonly Lazy<IKubernetes> _client;

    public KubernetesWorkspaceRuntime(
        IOptions<KubernetesRuntimeOptions> options,
        ILogger<KubernetesWorkspaceRuntime> logger,
        TimeProvider time)
    {
        _options = options.Value;
        _objects = new KubernetesObjects(_options);
        _logger = logger;
        _time = time;
        _client = new Lazy<IKubernetes>(CreateClient, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string Name => "kubernetes";

    private string Ns => _options.Namespace;

    private IKubernetes Client
    {
        get
        {
            try
            {
                return _client.Value;
            }
            catch (Exception e) when (e is not RuntimeException)
            {
                throw new RuntimeException(RuntimeErrorKind.Unavailable, $"no Kubernetes API server configured: {e.Message}", e);
            }
        }
    }

    private IKubernetes CreateClient()
    {
        KubernetesClientConfiguration config;
        if (!string.IsNullOrEmpty(_options.ApiServerUrl))
        {
            config = new KubernetesClientConfiguration { Host = _options.ApiServerUrl };
        }
        else if (!string.IsNullOrEmpty(_options.KubeconfigPath))
        {
            config = KubernetesClientConfiguration.BuildConfigFromConfigFile(_options.KubeconfigPath, _options.KubeconfigContext);
        }
        else if (KubernetesClientConfiguration.IsInCluster())
        {
            config = KubernetesClientConfiguration.InClusterConfig();
        }
        else
        {
            config = KubernetesClientConfiguration.BuildConfigFromConfigFile(currentContext: _options.KubeconfigContext);
        }
        config.HttpClientTimeout = _options.RequestTimeout;
        Log.Connecting(_logger, config.Host, Ns, _options.AgentName);
        return new k8s.Kubernetes(config);
    }

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
    }

    public async Task<InstanceStatus> StartInstanceAsync(string workspaceId, InstanceSpec spec, CancellationToken cancellationToken)
    {
        RequireId(workspaceId);
        if (workspaceId.Length > MaxWorkspaceIdLength)
        {
            throw new RuntimeException(RuntimeErrorKind.Invalid,
                $"workspace id '{workspaceId}' is too long for the kubernetes runtime: at most {MaxWorkspaceIdLength} characters, as the Service name harness-ws-{{id}} is a DNS label");
        }
        if (await GetVolumeAsync(workspaceId, cancellationToken) is null)
        {
            throw RuntimeException.VolumeNotFound(workspaceId);
        }

        var name = WorkspaceIds.InstanceName(workspaceId);
        var existing = await FindPodAsync(name, cancellationToken);
        if (existing is not null)
        {
            var current = await StatusOfAsync(workspaceId, existing, cancellationToken);
            var sameImage = current.Image == spec.Image && PortOf(existing) == spec.Port;
            if (sameImage && current.State == InstanceState.Running)
            {
                return current;
            }
            if (sameImage && current.State == InstanceState.Starting)
            {
                // Another start made it (or is making it): wait for it as if this call had.
                return await WaitForStartAsync(workspaceId, existing, cancellationToken);
            }
            Log.ReplacingInstance(_logger, workspaceId, current.State, current.Image);
            await DeletePodAndWaitAsync(name, cancellationToken);
        }

        await EnsureServiceAsync(workspaceId, spec.Port, cancellationToken);
        var pod = await TryCreateAsync(
            "create pod " + name,
            (client, ct) => client.CoreV1.CreateNamespacedPodAsync(_objects.Pod(workspaceId, spec), Ns, cancellationToken: ct),
            cancellationToken)
            // Another start won the race: report that pod.
            ?? await FindPodAsync(name, cancellationToken)
            ?? throw new RuntimeException(RuntimeErrorKind.Failed, $"pod {name} was created and is gone again");
        Log.PodCreated(_logger, workspaceId, spec.Image, Ns);
        return await WaitForStartAsync(workspaceId, pod, cancellationToken);
    }

    /// <summary>
    /// Waits up to <see cref="KubernetesRuntimeOptions.StartTimeout"/> for the pod to leave Pending. A cluster
    /// accepts a pod whose image does not exist; the kubelet reports ErrImagePull later. Seeing that here
    /// lets Start answer ImageNotFound like every other runtime (the pod and service are removed).
    /// </summary>
    private async Task<InstanceStatus> WaitForStartAsync(string workspaceId, V1Pod pod, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        while (true)
        {
            if (PodStatusMapper.IsImagePullFailure(pod))
            {
                var image = pod.Spec.Containers[0].Image;
                Log.ImageNotFound(_logger, workspaceId, image);
                await DeleteInstanceAsync(workspaceId, cancellationToken);
                throw new RuntimeException(RuntimeErrorKind.ImageNotFound,
                    PodStatusMapper.ImageNotFoundMessage(image, pod.Status.ContainerStatuses.First().State.Waiting));
            }
            var status = await StatusOfAsync(workspaceId, pod, cancellationToken);
            if (status.State != InstanceState.Starting || _time.GetElapsedTime(started) >= _options.StartTimeout)
            {
                return status;
            }
            await Task.Delay(_options.PollInterval, _time, cancellationToken);
            pod = await FindPodAsync(pod.Metadata.Name, cancellationToken) ?? throw new RuntimeException(
                RuntimeErrorKind.Failed, $"pod {pod.Metadata.Name} was deleted while it started");
        }
    }

    private async Task EnsureServiceAsync(string workspaceId, int port, CancellationToken cancellationToken)
    {
        var name = WorkspaceIds.InstanceName(workspaceId);
        var created = await TryCreateAsync(
            "create service " + name,
            (client, ct) => client.CoreV1.CreateNamespacedServiceAsync(_objects.Service(workspaceId, port), Ns, cancellationToken: ct),
            cancellationToken);
        if (created is not null)
        {
            return;
        }
        // It exists (a previous start). A different port means a different image: make it again.
        var existing = await FindAsync("read service " + name, (client, ct) => client.CoreV1.ReadNamespacedServiceAsync(name, Ns, cancellationToken: ct), cancellationToken);
        if (existing?.Spec?.Ports?.FirstOrDefault()?.Port == port)
        {
            return;
        }
        await FindAsync("delete service " + name, (client, ct) => client.CoreV1.DeleteNamespacedServiceAsync(name, Ns, cancellationToken: ct), cancellationToken);
        await CallAsync(
            "create service " + name,
            (client, ct) => client.CoreV1.CreateNamespacedServiceAsync(_objects.Service(workspaceId, port), Ns, cancellationToken: ct),
            cancellationToken);
    }

    public async Task<bool> DeleteInstanceAsync(string workspaceId, CancellationToken cancellationToken)
    {
        RequireId(workspaceId);
        var name = WorkspaceIds.InstanceName(workspaceId);
        var service = await FindAsync("delete service " + name, (client, ct) => client.CoreV1.DeleteNamespacedServiceAsync(name, Ns, cancellationToken: ct), cancellationToken);
        var pod = await DeletePodAndWaitAsync(name, cancellationToken);
        if (pod)
        {
            Log.PodDeleted(_logger, workspaceId, Ns);
        }
        return pod || service is not null;
    }

    /// <summary>Deletes the pod and waits until the kubelet has stopped it and the API server no longer has it.</summary>
    private async Task<bool> DeletePodAndWaitAsync(string name, CancellationToken cancellationToken)
    {
        var deleted = await FindAsync(
            "delete pod " + name,
            (client, ct) => client.CoreV1.DeleteNamespacedPodAsync(name, Ns, gracePeriodSeconds: _options.DeleteGracePeriodSeconds, cancellationToken: ct),
            cancellationToken);
        if (deleted is null)
        {
            return false;
        }
        await WaitUntilGoneAsync("pod " + name, ct => FindPodAsync(name, ct), cancellationToken);
        return true;
    }

    private async Task WaitUntilGoneAsync<T>(string what, Func<CancellationToken, Task<T?>> find, CancellationToken cancellationToken)
        where T : class
    {
        var started = _time.GetTimestamp();
        while (await find(cancellationToken) is not null)
        {
            if (_time.GetElapsedTime(started) >= _options.DeleteTimeout)
            {
                throw new RuntimeException(RuntimeErrorKind.Failed,
                    $"{what} is still terminating after {_options.DeleteTimeout.TotalSeconds:0}s; check its finalizers and events (kubectl -n {Ns} describe)");
            }
            await Task.Delay(_options.PollInterval, _time, cancellationToken);
        }
    }

    public async Task<InstanceStatus> GetInstanceAsync(string workspaceId, CancellationToken cancellationToken)
    {
        RequireId(workspaceId);
        var pod = await FindPodAsync(WorkspaceIds.InstanceName(workspaceId), cancellationToken);
        return pod is null
            ? new InstanceStatus(workspaceId, InstanceState.NotFound)
            : await StatusOfAsync(workspaceId, pod, cancellationToken);
    }

    public async Task<IReadOnlyList<InstanceStatus>> ListInstancesAsync(string? prefix, CancellationToken cancellationToken)
    {
        var selector = _objects.Selector(RuntimeLabels.RoleInstance);
        var pods = await CallAsync(
            "list pods",
            (client, ct) => client.CoreV1.ListNamespacedPodAsync(Ns, labelSelector: selector, cancellationToken: ct),
            cancellationToken);
        Dictionary<string, V1Service>? services = null;
        if (_options.UpstreamAddress == UpstreamAddress.ClusterIp)
        {
            var list = await CallAsync(
                "list services",
                (client, ct) => client.CoreV1.ListNamespacedServiceAsync(Ns, labelSelector: selector, cancellationToken: ct),
                cancellationToken);
            services = list.Items.ToDictionary(s => s.Metadata.Name, StringComparer.Ordinal);
        }

        var result = new List<InstanceStatus>();
        foreach (var pod in pods.Items)
        {
            if (pod.Metadata.Labels?.TryGetValue(RuntimeLabels.Workspace, out var workspaceId) != true
                || workspaceId is null
                || (!string.IsNullOrEmpty(prefix) && !workspaceId.StartsWith(prefix, StringComparison.Ordinal)))
            {
                continue;
            }
            var upstream = services is null
                ? DnsUpstream(workspaceId, PortOf(pod))
                : services.TryGetValue(pod.Metadata.Name, out var service) ? IpUpstream(service) : null;
            result.Add(PodStatusMapper.Map(workspaceId, pod, upstream));
        }
        return result.OrderBy(s => s.WorkspaceId, StringComparer.Ordinal).ToList();
    }

    private async Task<InstanceStatus> StatusOfAsync(string workspaceId, V1Pod pod, CancellationToken cancellationToken)
    {
        string? upstream;
        if (_options.UpstreamAddress == UpstreamAddress.ServiceDns)
        {
            upstream = DnsUpstream(workspaceId, PortOf(pod));
        }
        else
        {
            var name = WorkspaceIds.InstanceName(workspaceId);
            var service = await FindAsync("read service " + name, (client, ct) => client.CoreV1.ReadNamespacedServiceAsync(name, Ns, cancellationToken: ct), cancellationToken);
            upstream = service is null ? null : IpUpstream(service);
        }
        return PodStatusMapper.Map(workspaceId, pod, upstream);
    }

    private string DnsUpstream(string workspaceId, int port) =>
        $"http://{WorkspaceIds.InstanceName(workspaceId)}.{Ns}.svc.{_options.ClusterDomain}:{port}";

    private static string? IpUpstream(V1Service service) =>
        service.Spec?.ClusterIP is { Length: > 0 } ip && ip != "None" && service.Spec.Ports?.FirstOrDefault() is { } port
            ? $"http://{(ip.Contains(':', StringComparison.Ordinal) ? $"[{ip}]" : ip)}:{port.Port}"
            : null;

    private static int PortOf(V1Pod pod) =>
        pod.Spec?.Containers?.FirstOrDefault()?.Ports?.FirstOrDefault()?.ContainerPort ?? InstanceSpec.DefaultPort;

    private Task<V1Pod?> FindPodAsync(string name, CancellationToken cancellationToken) =>
        FindAsync("read pod " + name, (client, ct) => client.CoreV1.ReadNamespacedPodAsync(name, Ns, cancellationToken: ct), cancellationToken);

    public async Task<RuntimeProbe> ProbeAsync(CancellationToken cancellationToken)
    {
        try
        {
            var version = await CallAsync("read the API server version", (client, ct) => client.Version.GetCodeAsync(ct), cancellationToken);
            return new RuntimeProbe(true, $"kubernetes {version.GitVersion}, namespace {Ns}");
        }
        catch (RuntimeException e)
        {
            return new RuntimeProbe(false, e.Message);
        }
    }

    private static void RequireId(string workspaceId)
    {
        if (!WorkspaceIds.IsValid(workspaceId))
        {
            throw new RuntimeException(RuntimeErrorKind.Invalid, $"workspace id '{workspaceId}' {WorkspaceIds.Rule}");
        }
    }

    /// <summary>One API call; every failure becomes a <see cref="RuntimeException"/>.</summary>
    private async Task<T> CallAsync<T>(string what, Func<IKubernetes, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(Client, cancellationToken);
        }
        catch (Exception e) when (e is not RuntimeException && KubernetesErrors.Handles(e, cancellationToken))
        {
            var error = KubernetesErrors.Translate(e, what, cancellationToken);
            Log.ApiCallFailed(_logger, what, error.Kind, error.Message);
            throw error;
        }
    }

    /// <summary>A read or delete where 404 is an answer: null.</summary>
    private async Task<T?> FindAsync<T>(string what, Func<IKubernetes, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await CallAsync(what, call, cancellationToken);
        }
        catch (RuntimeException e) when (KubernetesErrors.Is(e.InnerException!, HttpStatusCode.NotFound))
        {
            return null;
        }
    }

    /// <summary>A create where 409 AlreadyExists is an answer: null (the caller reads the existing object).</summary>
    private async Task<T?> TryCreateAsync<T>(string what, Func<IKubernetes, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await CallAsync(what, call, cancellationToken);
        }
        catch (RuntimeException e) when (e.InnerException is not null && KubernetesErrors.Is(e.InnerException, HttpStatusCode.Conflict))
        {
            return null;
        }
    }
}
