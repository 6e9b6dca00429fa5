using System.Globalization;
using k8s.Models;

namespace Harness.Runtimes.Kubernetes;

/// <summary>The objects the runtime creates, built from the options and the workspace's spec.</summary>
internal sealed class KubernetesObjects(KubernetesRuntimeOptions options)
{
    public const string ContainerName = "workspace";
    public const string JobContainerName = "job";
    public const string WorkspaceMount = "/workspace";
    public const string ArchivesMount = "/archives";
    private const string VolumeName = "workspace";
    private const string ArchivesVolumeName = "archives";

    public Dictionary<string, string> Labels(string workspaceId, string role) => new()
    {
        [RuntimeLabels.Managed] = "true",
        [RuntimeLabels.Agent] = options.AgentName,
        [RuntimeLabels.Workspace] = workspaceId,
        [RuntimeLabels.Role] = role,
    };

    /// <summary>The label selector of this agent's objects of one role, optionally of one workspace.</summary>
    public string Selector(string role, string? workspaceId = null) =>
        $"{RuntimeLabels.Managed}=true,{RuntimeLabels.Agent}={options.AgentName},{RuntimeLabels.Role}={role}"
        + (workspaceId is null ? "" : $",{RuntimeLabels.Workspace}={workspaceId}");

    public V1PersistentVolumeClaim Claim(string workspaceId) => new()
    {
        ApiVersion = "v1",
        Kind = "PersistentVolumeClaim",
        Metadata = new V1ObjectMeta
        {
            Name = WorkspaceIds.VolumeName(workspaceId),
            NamespaceProperty = options.Namespace,
            Labels = Labels(workspaceId, RuntimeLabels.RoleVolume),
        },
        Spec = new V1PersistentVolumeClaimSpec
        {
            AccessModes = ["ReadWriteOnce"],
            StorageClassName = string.IsNullOrEmpty(options.StorageClass) ? null : options.StorageClass,
            Resources = new V1VolumeResourceRequirements
            {
                Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(options.VolumeSize) },
            },
        },
    };

    public V1Pod Pod(string workspaceId, InstanceSpec spec)
    {
        var labels = Labels(workspaceId, RuntimeLabels.RoleInstance);
        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = WorkspaceIds.InstanceName(workspaceId),
                NamespaceProperty = options.Namespace,
                Labels = labels,
            },
            Spec = new V1PodSpec
            {
                RestartPolicy = "Always",
                AutomountServiceAccountToken = false,
                EnableServiceLinks = false,
                SecurityContext = PodSecurity(),
                Containers =
                [
                    new V1Container
                    {
                        Name = ContainerName,
                        Image = spec.Image,
                        ImagePullPolicy = "IfNotPresent",
                        Ports = [new V1ContainerPort { Name = "http", ContainerPort = spec.Port, Protocol = "TCP" }],
                        Env = spec.Env.OrderBy(e => e.Key, StringComparer.Ordinal)
                            .Select(e => new V1EnvVar { Name = e.Key, Value = e.Value }).ToList(),
                        Resources = Resources(spec.Resources),
                        SecurityContext = ContainerSecurity(readOnlyRootFilesystem: false),
                        VolumeMounts = [new V1VolumeMount { Name = VolumeName, MountPath = spec.MountPath }],
                    },
                ],
                Volumes =
                [
                    new V1Volume
                    {
                        Name = VolumeName,
                        PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = WorkspaceIds.VolumeName(workspaceId) },
                    },
                ],
            },
        };
    }

    public V1Service Service(string workspaceId, int port) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = new V1ObjectMeta
        {
            Name = WorkspaceIds.InstanceName(workspaceId),
            NamespaceProperty = options.Namespace,
            Labels = Labels(workspaceId, RuntimeLabels.RoleInstance),
        },
        Spec = new V1ServiceSpec
        {
            Type = options.ServiceType,
            // Selects the pod by the labels only it has: the instance of this workspace of this agent.
            Selector = Labels(workspaceId, RuntimeLabels.RoleInstance),
            Ports = [new V1ServicePort { Name = "http", Port = port, TargetPort = port, Protocol = "TCP" }],
        },
    };

    /// <summary>
    /// An archive or restore Job: the workspace PVC at <see cref="WorkspaceMount"/> (read-only for an
    /// archive) and the shared archives PVC at <see cref="ArchivesMount"/>, running <paramref name="script"/> in sh.
    /// </summary>
    public V1Job Job(string name, string workspaceId, string role, string script, bool workspaceReadOnly, V1Affinity? affinity)
    {
        var labels = Labels(workspaceId, role);
        return new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = options.Namespace, Labels = labels },
            Spec = new V1JobSpec
            {
                BackoffLimit = 0,
                ActiveDeadlineSeconds = (long)Math.Ceiling(options.JobTimeout.TotalSeconds),
                // The runtime deletes the job when it is done; this only cleans up after an agent that died waiting.
                TtlSecondsAfterFinished = 3600,
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        RestartPolicy = "Never",
                        AutomountServiceAccountToken = false,
                        EnableServiceLinks = false,
                        SecurityContext = PodSecurity(),
                        Affinity = affinity,
                        Containers =
                        [
                            new V1Container
                            {
                                Name = JobContainerName,
                                Image = options.JobImage,
                                ImagePullPolicy = "IfNotPresent",
                                Command = ["sh", "-c", script],
                                SecurityContext = ContainerSecurity(readOnlyRootFilesystem: true),
                                VolumeMounts =
                                [
                                    new V1VolumeMount { Name = VolumeName, MountPath = WorkspaceMount, ReadOnlyProperty = workspaceReadOnly },
                                    new V1VolumeMount { Name = ArchivesVolumeName, MountPath = ArchivesMount },
                                ],
                            },
                        ],
                        Volumes =
                        [
                            new V1Volume
                            {
                                Name = VolumeName,
                                PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource
                                {
                                    ClaimName = WorkspaceIds.VolumeName(workspaceId),
                                    ReadOnlyProperty = workspaceReadOnly,
                                },
                            },
                            new V1Volume
                            {
                                Name = ArchivesVolumeName,
                                PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = options.ArchivesClaimName },
                            },
                        ],
                    },
                },
            },
        };
    }

    public static string ArchiveScript(string fileName) =>
        $"set -e; tar czf {ArchivesMount}/{fileName}.partial -C {WorkspaceMount} . && mv {ArchivesMount}/{fileName}.partial {ArchivesMount}/{fileName}";

    public static string RestoreScript(string fileName) =>
        $"set -e; test -f {ArchivesMount}/{fileName}; find {WorkspaceMount} -mindepth 1 -maxdepth 1 -exec rm -rf {{}} +; tar xzf {ArchivesMount}/{fileName} -C {WorkspaceMount}";

    /// <summary>
    /// Schedules a job next to the running instance: a ReadWriteOnce volume attaches to one node only.
    /// </summary>
    public static V1Affinity SameNodeAs(IDictionary<string, string> instanceLabels) => new()
    {
        PodAffinity = new V1PodAffinity
        {
            RequiredDuringSchedulingIgnoredDuringExecution =
            [
                new V1PodAffinityTerm
                {
                    TopologyKey = "kubernetes.io/hostname",
                    LabelSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string>(instanceLabels) },
                },
            ],
        },
    };

    private V1PodSecurityContext PodSecurity() => new()
    {
        RunAsNonRoot = options.RunAsNonRoot ? true : null,
        RunAsUser = options.RunAsNonRoot ? options.RunAsUser : null,
        FsGroup = options.RunAsUser,
        SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
    };

    private static V1SecurityContext ContainerSecurity(bool readOnlyRootFilesystem) => new()
    {
        AllowPrivilegeEscalation = false,
        Privileged = false,
        ReadOnlyRootFilesystem = readOnlyRootFilesystem ? true : null,
        Capabilities = new V1Capabilities { Drop = ["ALL"] },
    };

    /// <summary>
    /// Limits and equal requests, so a workspace is scheduled where its limits fit. Kubernetes has no
    /// per-pod pids limit (the kubelet's podPidsLimit applies), so <see cref="ResourceLimits.Pids"/> is not mapped.
    /// </summary>
    private static V1ResourceRequirements? Resources(Contracts.Runtime.ResourceLimits limits)
    {
        var values = new Dictionary<string, ResourceQuantity>();
        if (limits.Cpu is { } cpu and > 0)
        {
            values["cpu"] = new ResourceQuantity(((long)Math.Ceiling(cpu * 1000)).ToString(CultureInfo.InvariantCulture) + "m");
        }
        if (limits.MemoryMb is { } memory and > 0)
        {
            values["memory"] = new ResourceQuantity(memory.ToString(CultureInfo.InvariantCulture) + "Mi");
        }
        return values.Count == 0
            ? null
            : new V1ResourceRequirements { Limits = values, Requests = new Dictionary<string, ResourceQuantity>(values) };
    }
}
