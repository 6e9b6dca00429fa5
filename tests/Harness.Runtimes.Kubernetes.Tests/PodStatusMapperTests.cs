using Harness.Contracts.Runtime;
using k8s.Models;

namespace Harness.Runtimes.Kubernetes.Tests;

/// <summary>The status table of docs/runtimes/kubernetes.md, one row per case.</summary>
public sealed class PodStatusMapperTests
{
    private const string Upstream = "http://harness-ws-ws1.harness.svc.cluster.local:8080";

    public static TheoryData<string, string?, string?, bool, bool, InstanceState, string?> Cases => new()
    {
        // phase, waiting reason, terminated reason, ready, scheduled, expected state, message starts with
        { "Pending", null, null, false, false, InstanceState.Starting, null },
        { "Pending", "ContainerCreating", null, false, true, InstanceState.Starting, "ContainerCreating" },
        { "Pending", "ErrImagePull", null, false, true, InstanceState.Error, "image 'app:1' not found (ErrImagePull)" },
        { "Pending", "ImagePullBackOff", null, false, true, InstanceState.Error, "image 'app:1' not found (ImagePullBackOff)" },
        { "Pending", "InvalidImageName", null, false, true, InstanceState.Error, "image 'app:1' not found (InvalidImageName)" },
        { "Pending", "CreateContainerConfigError", null, false, true, InstanceState.Error, "CreateContainerConfigError" },
        { "Running", null, null, false, true, InstanceState.Starting, "the container is not ready yet" },
        { "Running", null, null, true, true, InstanceState.Running, null },
        { "Running", "CrashLoopBackOff", null, false, true, InstanceState.Error, "CrashLoopBackOff" },
        { "Running", null, "Error", false, true, InstanceState.Error, "exited with code 1" },
        { "Succeeded", null, "Completed", false, true, InstanceState.Stopped, "exited with code 0" },
        { "Failed", null, "Error", false, true, InstanceState.Error, "Failed" },
        { "Unknown", null, null, false, true, InstanceState.Error, "the pod's node does not report" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Map_PodState_IsTheDocumentedInstanceState(
        string phase, string? waiting, string? terminated, bool ready, bool scheduled, InstanceState expected, string? message)
    {
        var pod = Pod(phase, waiting, terminated, ready, scheduled);

        var status = PodStatusMapper.Map("ws1", pod, Upstream);

        Assert.Equal(expected, status.State);
        Assert.Equal("app:1", status.Image);
        Assert.Equal(expected == InstanceState.Running ? Upstream : null, status.Upstream);
        if (message is null)
        {
            Assert.Null(status.Message);
        }
        else
        {
            Assert.StartsWith(message, status.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Map_UnschedulablePod_IsStartingWithTheSchedulersMessage()
    {
        var pod = Pod("Pending", null, null, false, scheduled: false);
        pod.Status.Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "False", Reason = "Unschedulable", Message = "0/3 nodes are available: 3 Insufficient memory." }];

        var status = PodStatusMapper.Map("ws1", pod, Upstream);

        Assert.Equal((InstanceState.Starting, "0/3 nodes are available: 3 Insufficient memory."), (status.State, status.Message));
    }

    [Fact]
    public void Map_TerminatingPod_IsStopped()
    {
        var pod = Pod("Running", null, null, ready: true, scheduled: true);
        pod.Metadata.DeletionTimestamp = DateTime.UtcNow;

        var status = PodStatusMapper.Map("ws1", pod, Upstream);

        Assert.Equal((InstanceState.Stopped, "the pod is terminating", (string?)null), (status.State, status.Message, status.Upstream));
    }

    [Fact]
    public void Map_RunningContainer_StartedAtIsTheContainersStart()
    {
        var started = new DateTime(2026, 11, 23, 9, 0, 0, DateTimeKind.Utc);
        var pod = Pod("Running", null, null, ready: true, scheduled: true);
        pod.Status.ContainerStatuses[0].State.Running = new V1ContainerStateRunning { StartedAt = started };

        Assert.Equal(new DateTimeOffset(started), PodStatusMapper.Map("ws1", pod, Upstream).StartedAt);
    }

    private static V1Pod Pod(string phase, string? waiting, string? terminated, bool ready, bool scheduled)
    {
        var state = new V1ContainerState();
        if (waiting is not null)
        {
            state.Waiting = new V1ContainerStateWaiting { Reason = waiting };
        }
        if (terminated is not null)
        {
            state.Terminated = new V1ContainerStateTerminated { Reason = terminated, ExitCode = terminated == "Completed" ? 0 : 1 };
        }
        if (waiting is null && terminated is null && phase == "Running")
        {
            state.Running = new V1ContainerStateRunning();
        }
        return new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "harness-ws-ws1" },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "workspace", Image = "app:1" }] },
            Status = new V1PodStatus
            {
                Phase = phase,
                ContainerStatuses = scheduled
                    ? [new V1ContainerStatus { Name = "workspace", Image = "app:1", Ready = ready, State = state, LastState = new V1ContainerState() }]
                    : null,
            },
        };
    }
}
