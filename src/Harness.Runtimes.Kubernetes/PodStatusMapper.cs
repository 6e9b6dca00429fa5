using Harness.Contracts.Runtime;
using k8s.Models;

namespace Harness.Runtimes.Kubernetes;

/// <summary>
/// Maps a workspace pod (phase, conditions, the workspace container's state) to an
/// <see cref="InstanceStatus"/>. docs/runtimes/kubernetes.md has the table.
/// </summary>
internal static class PodStatusMapper
{
    /// <summary>Waiting reasons the kubelet gives when the image cannot be pulled.</summary>
    public static readonly IReadOnlySet<string> ImagePullReasons =
        new HashSet<string>(StringComparer.Ordinal) { "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull" };

    /// <summary>Waiting reasons that will not resolve by waiting.</summary>
    private static readonly IReadOnlySet<string> FailedWaitingReasons =
        new HashSet<string>(StringComparer.Ordinal) { "CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError", "RunContainerError" };

    public static bool IsImagePullFailure(V1Pod pod) =>
        WorkspaceContainer(pod)?.State?.Waiting?.Reason is { } reason && ImagePullReasons.Contains(reason);

    public static InstanceStatus Map(string workspaceId, V1Pod pod, string? upstream)
    {
        var image = pod.Spec?.Containers?.FirstOrDefault(c => c.Name == KubernetesObjects.ContainerName)?.Image
            ?? pod.Spec?.Containers?.FirstOrDefault()?.Image;
        var container = WorkspaceContainer(pod);
        DateTimeOffset? startedAt = container?.State?.Running?.StartedAt is { } started
            ? new DateTimeOffset(DateTime.SpecifyKind(started, DateTimeKind.Utc))
            : pod.Status?.StartTime is { } podStart ? new DateTimeOffset(DateTime.SpecifyKind(podStart, DateTimeKind.Utc)) : null;

        InstanceStatus Status(InstanceState state, string? message = null) =>
            new(workspaceId, state, image, state == InstanceState.Running ? upstream : null, message, startedAt);

        if (pod.Metadata?.DeletionTimestamp is not null)
        {
            return Status(InstanceState.Stopped, "the pod is terminating");
        }

        var waiting = container?.State?.Waiting;
        if (waiting?.Reason is { } waitingReason)
        {
            if (ImagePullReasons.Contains(waitingReason))
            {
                return Status(InstanceState.Error, ImageNotFoundMessage(image, waiting));
            }
            if (FailedWaitingReasons.Contains(waitingReason))
            {
                var last = container?.LastState?.Terminated;
                var detail = last is null ? waiting.Message : $"last exit code {last.ExitCode} ({last.Reason})";
                return Status(InstanceState.Error, Join($"{waitingReason}", detail));
            }
        }

        switch (pod.Status?.Phase)
        {
            case "Succeeded":
                return Status(InstanceState.Stopped, Terminated(container) ?? "the pod completed");
            case "Failed":
                return Status(InstanceState.Error, Join(pod.Status.Reason ?? "Failed", pod.Status.Message ?? Terminated(container)));
            case "Unknown":
                return Status(InstanceState.Error, Join("the pod's node does not report", pod.Status.Message));
            case "Running":
                if (container?.State?.Terminated is not null)
                {
                    return Status(InstanceState.Error, Terminated(container));
                }
                return container?.Ready == true
                    ? Status(InstanceState.Running)
                    : Status(InstanceState.Starting, "the container is not ready yet");
            default:
                var unschedulable = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled" && c.Status == "False");
                return Status(InstanceState.Starting, unschedulable?.Message ?? waiting?.Reason);
        }
    }

    public static string ImageNotFoundMessage(string? image, V1ContainerStateWaiting? waiting) =>
        Join($"image '{image}' not found ({waiting?.Reason})", waiting?.Message);

    private static V1ContainerStatus? WorkspaceContainer(V1Pod pod) =>
        pod.Status?.ContainerStatuses?.FirstOrDefault(c => c.Name == KubernetesObjects.ContainerName)
        ?? pod.Status?.ContainerStatuses?.FirstOrDefault();

    private static string? Terminated(V1ContainerStatus? container) =>
        container?.State?.Terminated is { } t ? Join($"exited with code {t.ExitCode}", t.Reason) : null;

    private static string Join(string head, string? detail) =>
        string.IsNullOrWhiteSpace(detail) ? head : $"{head}: {detail}";
}
