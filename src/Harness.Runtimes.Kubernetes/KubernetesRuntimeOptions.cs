namespace Harness.Runtimes.Kubernetes;

/// <summary>
/// Settings of the kubernetes runtime, bound from <c>Agent:Workspaces:Kubernetes</c>. Every
/// object the runtime makes lives in <see cref="Namespace"/> and carries the agent's name, so
/// two agents can share a namespace without seeing each other's workspaces.
/// </summary>
public sealed class KubernetesRuntimeOptions
{
    public const string SectionName = "Agent:Workspaces:Kubernetes";

    /// <summary>Where pods, services, PVCs and jobs are created. The agent's Role is bound here.</summary>
    public string Namespace { get; set; } = "harness";

    /// <summary>The value of the <c>harness.agent</c> label; a restarted agent lists by it.</summary>
    public string AgentName { get; set; } = "";

    /// <summary>
    /// The API server to talk to without credentials (a <c>kubectl proxy</c>, or a test's fake).
    /// When empty: <see cref="KubeconfigPath"/>, else the in-cluster service account, else the default kubeconfig.
    /// </summary>
    public string? ApiServerUrl { get; set; }

    /// <summary>A kubeconfig file to use instead of the in-cluster service account.</summary>
    public string? KubeconfigPath { get; set; }

    /// <summary>The kubeconfig context; empty means its current context.</summary>
    public string? KubeconfigContext { get; set; }

    /// <summary>The storage class of workspace PVCs; empty means the cluster's default class.</summary>
    public string? StorageClass { get; set; }

    /// <summary>The size each workspace PVC requests, as a Kubernetes quantity.</summary>
    public string VolumeSize { get; set; } = "1Gi";

    /// <summary>
    /// The directory, inside the agent's pod, where the <see cref="ArchivesClaimName"/> PVC is mounted.
    /// Archive jobs write <c>{name}.tar.gz</c> there and the agent streams it; restore works the other way.
    /// </summary>
    public string ArchiveDir { get; set; } = "/var/lib/harness/archives";

    /// <summary>The PVC the agent and the archive/restore jobs share (ReadWriteMany when jobs may run on other nodes).</summary>
    public string ArchivesClaimName { get; set; } = "harness-archives";

    /// <summary>The image archive and restore jobs run; it needs <c>sh</c>, <c>tar</c> with gzip, and <c>find</c>.</summary>
    public string JobImage { get; set; } = "busybox:1.37";

    /// <summary>The type of each workspace's Service: ClusterIP, NodePort or LoadBalancer.</summary>
    public string ServiceType { get; set; } = "ClusterIP";

    /// <summary>How upstream URLs name the instance: the Service's DNS name, or its cluster IP.</summary>
    public UpstreamAddress UpstreamAddress { get; set; } = UpstreamAddress.ServiceDns;

    /// <summary>The cluster's DNS domain, for <see cref="UpstreamAddress.ServiceDns"/>.</summary>
    public string ClusterDomain { get; set; } = "cluster.local";

    /// <summary>
    /// Pods run with <c>runAsNonRoot</c> (the kubelet refuses images whose user is root). Turn off
    /// only for images that cannot run as another user.
    /// </summary>
    public bool RunAsNonRoot { get; set; } = true;

    /// <summary>The user workspace and job containers run as when the image names none (and the PVCs' fsGroup).</summary>
    public long RunAsUser { get; set; } = 1000;

    /// <summary>
    /// How long <c>StartInstance</c> waits for the pod to leave Pending, so a missing image is reported
    /// as ImageNotFound rather than later as an error status. Zero returns <c>starting</c> at once.
    /// </summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long deleting an instance (or waiting for a terminating PVC) waits for the object to go.</summary>
    public TimeSpan DeleteTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The grace period given to a workspace pod when it is deleted.</summary>
    public int DeleteGracePeriodSeconds { get; set; } = 10;

    /// <summary>How long an archive or restore job may take.</summary>
    public TimeSpan JobTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the runtime reads a pod or job it waits for.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The timeout of each API request.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>How the upstream URL of an instance reaches its Service.</summary>
public enum UpstreamAddress
{
    /// <summary><c>http://harness-ws-{id}.{namespace}.svc.{domain}:{port}</c>: needs cluster DNS (the server runs in the cluster).</summary>
    ServiceDns,
    /// <summary><c>http://{clusterIP}:{port}</c>: the Service's cluster IP, read from the Service.</summary>
    ClusterIp,
}
