using System.Text.Json.Nodes;
using Harness.Contracts.Runtime;
using Harness.Runtimes.Kubernetes;
using static Harness.Runtimes.Kubernetes.Tests.KubernetesRuntimeFixture;

namespace Harness.Runtimes.Kubernetes.Tests;

public sealed class KubernetesInstanceTests : KubernetesRuntimeTestBase
{
    [Fact]
    public async Task StartInstance_KnownImage_RunsAPodAndServiceWithTheServiceDnsUpstream()
    {
        await Runtime.CreateVolumeAsync("ws1", Ct);

        var status = await Runtime.StartInstanceAsync("ws1",
            Spec(port: 3000, mountPath: "/home/coder", resources: new ResourceLimits(Cpu: 0.5, MemoryMb: 512, Pids: 100),
                env: new Dictionary<string, string> { ["B"] = "2", ["A"] = "1" }), Ct);

        Assert.Equal(InstanceState.Running, status.State);
        Assert.Equal(Image, status.Image);
        Assert.Equal("http://harness-ws-ws1.harness.svc.cluster.local:3000", status.Upstream);
        Assert.NotNull(status.StartedAt);

        var pod = Api.Get("pods", Namespace, "harness-ws-ws1")!;
        AssertLabels(pod, "ws1", "instance");
        var container = pod["spec"]!["containers"]![0]!;
        Assert.Equal(Image, container["image"]!.GetValue<string>());
        Assert.Equal(3000, container["ports"]![0]!["containerPort"]!.GetValue<int>());
        Assert.Equal("/home/coder", container["volumeMounts"]![0]!["mountPath"]!.GetValue<string>());
        Assert.Equal("harness-vol-ws1", pod["spec"]!["volumes"]![0]!["persistentVolumeClaim"]!["claimName"]!.GetValue<string>());
        Assert.Equal(["A", "B"], container["env"]!.AsArray().Select(e => e!["name"]!.GetValue<string>()));
        Assert.Equal("500m", container["resources"]!["limits"]!["cpu"]!.GetValue<string>());
        Assert.Equal("512Mi", container["resources"]!["limits"]!["memory"]!.GetValue<string>());
        Assert.Equal("512Mi", container["resources"]!["requests"]!["memory"]!.GetValue<string>());
        Assert.False(container["securityContext"]!["allowPrivilegeEscalation"]!.GetValue<bool>());
        Assert.Equal(["ALL"], container["securityContext"]!["capabilities"]!["drop"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.True(pod["spec"]!["securityContext"]!["runAsNonRoot"]!.GetValue<bool>());
        Assert.False(pod["spec"]!["automountServiceAccountToken"]!.GetValue<bool>());

        var service = Api.Get("services", Namespace, "harness-ws-ws1")!;
        AssertLabels(service, "ws1", "instance");
        Assert.Equal("ClusterIP", service["spec"]!["type"]!.GetValue<string>());
        Assert.Equal(3000, service["spec"]!["ports"]![0]!["port"]!.GetValue<int>());
        Assert.Equal(3000, service["spec"]!["ports"]![0]!["targetPort"]!.GetValue<int>());
        var selector = service["spec"]!["selector"]!.AsObject();
        Assert.Equal("ws1", selector[RuntimeLabels.Workspace]!.GetValue<string>());
        Assert.Equal("instance", selector[RuntimeLabels.Role]!.GetValue<string>());
        Assert.Equal(KubernetesRuntimeFixture.Agent, selector[RuntimeLabels.Agent]!.GetValue<string>());
    }

    [Fact]
    public async Task StartInstance_MakesExactlyTheseApiCalls()
    {
        await Runtime.CreateVolumeAsync("ws1", Ct);
        Api.ClearRequests();

        await Runtime.StartInstanceAsync("ws1", Spec(), Ct);

        var calls = Api.Requests.Select(r => $"{r.Method} {r.Path}").Distinct().ToList();
        Assert.Equal(
        [
            "GET /api/v1/namespaces/harness/persistentvolumeclaims/harness-vol-ws1",
            "GET /api/v1/namespaces/harness/pods/harness-ws-ws1",
            "POST /api/v1/namespaces/harness/services",
            "POST /api/v1/namespaces/harness/pods",
        ], calls);
    }

    [Fact]
    public async Task StartInstance_WithoutVolume_IsNotFoundAndCreatesNothing()
    {
        var error = await Assert.ThrowsAsync<RuntimeException>(() => Runtime.StartInstanceAsync("ws1", Spec(), Ct));

        Assert.Equal(RuntimeErrorKind.NotFound, error.Kind);
        Assert.Empty(Api.All("pods", Namespace));
        Assert.Empty(Api.All("services", Namespace));
    }

    [Fact]
    public async Task StartInstance_UnknownImage_IsImageNotFoundAndRemovesThePodAndService()
    {
        await Runtime.CreateVolumeAsync("ws1", Ct);

        var error = await Assert.ThrowsAsync<RuntimeException>(() => Runtime.StartInstanceAsync("ws1", Spec(image: "no-such-image:1"), Ct));

        Assert.Equal(RuntimeErrorKind.ImageNotFound, error.Kind);
        // Which of the kubelet's two reasons the runtime sees first depends on timing, as on a cluster.
        Assert.Matches(@"^image 'no-such-image:1' not found \((ErrImagePull|ImagePullBackOff)\): ", error.Message);
        Assert.Equal(InstanceState.NotFound, (await Runtime.GetInstanceAsync("ws1", Ct)).State);
        Assert.Empty(Api.All("services", Namespace));
        Assert.NotNull(await Runtime.GetVolumeAsync("ws1", Ct));
    }

    [Fact]
    public async Task StartInstance_UnknownImageWithoutWaiting_ReturnsStartingThenStatusIsErrorImageNotFound()
    {
        var runtime = Fixture.Runtime(configure: o => o.StartTimeout = TimeSpan.Zero);
        await runtime.CreateVolumeAsync("ws1", Ct);

        var started = await runtime.StartInstanceAsync("ws1", Spec(image: "no-such-image:1"), Ct);
        Assert.Equal(InstanceState.Starting, started.State);

        var status = await Poll(() => runtime.GetInstanceAsync("ws1", Ct), s => s.State != InstanceState.Starting);
        Assert.Equal(InstanceState.Error, status.State);
        Assert.StartsWith("image 'no-such-image:1' not found", status.Message, StringComparison.Ordinal);
        Assert.Null(status.Upstream);
    }

    [Fact]
    public async Task StartInstance_WhileThePodStaysPending_ReturnsStartingAfterTheStartTimeout()
    {
        var runtime = Fixture.Runtime(configure: o => o.StartTimeout = TimeSpan.FromMilliseconds(200));
        await runtime.CreateVolumeAsync("ws1", Ct);
        Api.HoldPending = true;

        var status = await runtime.StartInstanceAsync("ws1", Spec(), Ct);

        Assert.Equal(InstanceState.Starting, status.State);
        Assert.Null(status.Upstream);
        Api.HoldPending = false;
        var running = await Poll(() => runtime.GetInstanceAsync("ws1", Ct), s => s.State == InstanceState.Running);
        Assert.Equal("http://harness-ws-ws1.harness.svc.cluster.local:8080", running.Upstream);
    }

    [Fact]
    public async Task StartInstance_Twice_ReturnsTheRunningPodWithoutCreatingAnother()
    {
        await Runtime.CreateVolumeAsync("ws1", Ct);
        await Runtime.StartInstanceAsync("ws1", Spec(), Ct);
        var uid = Api.Get("pods", Namespace, "harness-ws-ws1")!["metadata"]!["uid"]!.GetValue<string>();
        Api.ClearRequests();

        var again = await Runtime.StartInstanceAsync("ws1", Spec(), Ct);

        Assert.Equal(InstanceState.Running, again.State);
        Assert.Equal(uid, Api.Get("pods", Namespace, "harness-ws-ws1")!["metadata"]!["uid"]!.GetValue<string>());
        Assert.DoesNotContain(Api.Requests, r => r.Method != "GET");
    }

    [Fact]
    public async Task StartInstance_WithAnotherImage_ReplacesThePod()
    {
        Api.KnownImages["nginx:1.28"] = true;
        await Runtime.CreateVolumeAsync("ws1", Ct);
        await Runtime.StartInstanceAsync("ws1", Spec(), Ct);
        var uid = Api.Get("pods", Namespace, "harness-ws-ws1")!["metadata"]!["uid"]!.GetValue<string>();

        var replaced = await Runtime.StartInstanceAsync("ws1", Spec(image: "nginx:1.28", port: 9000), Ct);

        Assert.Equal(InstanceState.Running, replaced.State);
        Assert.Equal("nginx:1.28", replaced.Image);
        Assert.NotEqual(uid, Api.Get("pods", Namespace, "harness-ws-ws1")!["metadata"]!["uid"]!.GetValue<string>());
        Assert.Equal(9000, Api.Get("services", Namespace, "harness-ws-ws1")!["spec"]!["ports"]![0]!["port"]!.GetValue<int>());
        Assert.EndsWith(":9000", replaced.Upstream, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartInstance_AfterAPodFailed_ReplacesIt()
    {
        await Runtime.CreateVolumeAsync("ws1", Ct);
        await Runtime.StartInstanceAsync("ws1", Spec(), Ct);
        Api.UpdatePod(Namespace, "harness-ws-ws1", pod => pod["status"]!["phase"] = "Succeeded");
        var uid = Api.Get("pods", Namespace, "harness-ws-ws1")!["metadata"]!["uid"]!.GetValue<string>();

        var status = await Runtime.StartInstanceAsync("ws1", Spec(), Ct);

        Assert.Equal(InstanceState.Running, status.State);
        Assert.NotEqual(uid, Api.Get("pods", Namespace, "harness-ws-ws1")!["metadata"]!["uid"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("Bad_Id")]
    [InlineData("")]
    public async Task StartInstance_InvalidId_IsInvalid(string id)
    {
        var error = await Assert.ThrowsAsync<RuntimeException>(() => Runtime.StartInstanceAsync(id, Spec(), Ct));
        Assert.Equal(RuntimeErrorKind.Invalid, error.Kind);
        Assert.Empty(Api.Requests);
    }

    [Fact]
    public async Task StartInstance_IdLongerThanAServiceNameAllows_IsInvalidBeforeAnyCall()
    {
        var id = new string('a', KubernetesWorkspaceRuntime.MaxWorkspaceIdLength + 1);

        var error = await Assert.ThrowsAsync<RuntimeException>(() => Runtime.StartInstanceAsync(id, Spec(), Ct));

        Assert.Equal(RuntimeErrorKind.Invalid, error.Kind);
        Assert.Contains("at most 52", error.Message, StringComparison.Ordinal);
        Assert.Empty(Api.Requests);
    }

    [Fact]
    public async Task GetInstance_CrashingImage_IsErrorWithCrashLoopBackOff()
    {
        await Runtime.CreateVolumeAsync("ws1", Ct);
        var started = await Runtime.StartInstanceAsync("ws1", Spec(image: CrashingImage), Ct);
        Assert.Equal(InstanceState.Error, started.State);

        var status = await Runtime.GetInstanceAsync("ws1", Ct);

        Assert.Equal(InstanceState.Error, status.State);
        Assert.StartsWith("CrashLoopBackOff: last exit code 1 (Error)", status.Message, StringComparison.Ordinal);
        Assert.Null(status.Upstream);
    }

    [Theory]
    [InlineData("Succeeded", InstanceState.Stopped)]
    [InlineData("Failed", InstanceState.Error)]
    [InlineData("Unknown", InstanceState.Error)]
    public async Task GetInstance_PodPhase_MapsToState(string phase, InstanceState expected)
    {
        await Runtime.CreateVolumeAsync("ws1", Ct);
        await Runtime.StartInstanceAsync("ws1", Spec(), Ct);
        Api.UpdatePod(Namespace, "harness-ws-ws1", pod =>
        {
            pod["status"]!["phase"] = phase;
            pod["status"]!["containerStatuses"]![0]!["state"] = new JsonObject
            {
                ["terminated"] = new JsonObject { ["exitCode"] = phase == "Succeeded" ? 0 : 137, ["reason"] = phase == "Succeeded" ? "Completed" : "OOMKilled" },
            };
        });

        var status = await Runtime.GetInstanceAsync("ws1", Ct);

        Assert.Equal(expected, status.State);
        Assert.Null(status.Upstream);
    }

    [Fact]
    public async Task GetInstance_NoPod_IsNotFound()
    {
        var status = await Runtime.GetInstanceAsync("ws1", Ct);

        Assert.Equal(new InstanceStatus("ws1", InstanceState.NotFound), status);
    }

    [Fact]
    public async Task DeleteInstance_RemovesPodAndServiceAndKeepsTheVolume()
    {
        await Runtime.CreateVolumeAsync("ws1", Ct);
        await Runtime.StartInstanceAsync("ws1", Spec(), Ct);
        Api.ClearRequests();

        Assert.True(await Runtime.DeleteInstanceAsync("ws1", Ct));

        Assert.Null(Api.Get("pods", Namespace, "harness-ws-ws1"));
        Assert.Null(Api.Get("services", Namespace, "harness-ws-ws1"));
        Assert.NotNull(await Runtime.GetVolumeAsync("ws1", Ct));
        Assert.Contains(Api.Requests, r => r.Method == "DELETE" && r.Path == "/api/v1/namespaces/harness/pods/harness-ws-ws1" && r.Parameter("gracePeriodSeconds") == "10");
        Assert.False(await Runtime.DeleteInstanceAsync("ws1", Ct));
    }

    [Fact]
    public async Task DeleteInstance_WhenThePodStaysTerminating_FailsAfterTheDeleteTimeoutSayingWhy()
    {
        var runtime = Fixture.Runtime(configure: o => o.DeleteTimeout = TimeSpan.FromMilliseconds(300));
        await runtime.CreateVolumeAsync("ws1", Ct);
        await runtime.StartInstanceAsync("ws1", Spec(), Ct);
        Api.HoldTermination = true;

        var error = await Assert.ThrowsAsync<RuntimeException>(() => runtime.DeleteInstanceAsync("ws1", Ct));

        Assert.Equal(RuntimeErrorKind.Failed, error.Kind);
        Assert.Contains("pod harness-ws-ws1 is still terminating", error.Message, StringComparison.Ordinal);
        Assert.Equal(InstanceState.Stopped, (await runtime.GetInstanceAsync("ws1", Ct)).State);
        Assert.Equal(RuntimeErrorKind.Conflict, (await Assert.ThrowsAsync<RuntimeException>(() => runtime.DeleteVolumeAsync("ws1", Ct))).Kind);
        Api.HoldTermination = false;
        await Poll(() => runtime.GetInstanceAsync("ws1", Ct), s => s.State == InstanceState.NotFound);
        Assert.True(await runtime.DeleteVolumeAsync("ws1", Ct));
    }

    [Fact]
    public async Task StartInstance_TwiceAtOnce_BothGetTheOnePodThroughAlreadyExists()
    {
        await Runtime.CreateVolumeAsync("ws1", Ct);
        var other = Fixture.Runtime();

        var both = await Task.WhenAll(Runtime.StartInstanceAsync("ws1", Spec(), Ct), other.StartInstanceAsync("ws1", Spec(), Ct));

        Assert.All(both, s => Assert.Equal(InstanceState.Running, s.State));
        Assert.Single(Api.All("pods", Namespace));
        Assert.Single(Api.All("services", Namespace));
        Assert.Null(Api.ControllerError);
    }

    [Fact]
    public async Task ListInstances_ListsThisAgentsPodsByLabelSelectorAndPrefix()
    {
        foreach (var id in new[] { "team-a-1", "team-a-2", "team-b-1" })
        {
            await Runtime.CreateVolumeAsync(id, Ct);
            await Runtime.StartInstanceAsync(id, Spec(), Ct);
        }
        var other = Fixture.Runtime(agent: "agent-2");
        await other.CreateVolumeAsync("team-a-9", Ct);
        await other.StartInstanceAsync("team-a-9", Spec(), Ct);
        Api.ClearRequests();

        var all = await Runtime.ListInstancesAsync(null, Ct);
        var teamA = await Runtime.ListInstancesAsync("team-a-", Ct);

        Assert.Equal(["team-a-1", "team-a-2", "team-b-1"], all.Select(s => s.WorkspaceId));
        Assert.All(all, s => Assert.Equal(InstanceState.Running, s.State));
        Assert.Equal(["team-a-1", "team-a-2"], teamA.Select(s => s.WorkspaceId));
        Assert.Equal("http://harness-ws-team-a-1.harness.svc.cluster.local:8080", teamA[0].Upstream);
        var list = Assert.Single(Api.Requests.DistinctBy(r => r.Query));
        Assert.Equal("/api/v1/namespaces/harness/pods", list.Path);
        Assert.Equal("harness.managed=true,harness.agent=agent-1,harness.role=instance", list.Parameter("labelSelector"));
        Assert.Equal("false", list.Parameter("watch"));
    }

    [Fact]
    public async Task ListInstances_ARestartedRuntime_FindsWhatTheLastOneMade()
    {
        await Runtime.CreateVolumeAsync("ws1", Ct);
        await Runtime.StartInstanceAsync("ws1", Spec(), Ct);
        Runtime.Dispose();

        var restarted = Fixture.Runtime();

        var instance = Assert.Single(await restarted.ListInstancesAsync(null, Ct));
        Assert.Equal(("ws1", InstanceState.Running, Image), (instance.WorkspaceId, instance.State, instance.Image));
        Assert.Equal(["ws1"], (await restarted.ListVolumesAsync(Ct)).Select(v => v.WorkspaceId));
        Assert.True(await restarted.DeleteInstanceAsync("ws1", Ct));
    }

    [Fact]
    public async Task Upstream_InClusterIpMode_IsTheServicesClusterIp()
    {
        var runtime = Fixture.Runtime(configure: o => o.UpstreamAddress = UpstreamAddress.ClusterIp);
        await runtime.CreateVolumeAsync("ws1", Ct);

        var status = await runtime.StartInstanceAsync("ws1", Spec(port: 3000), Ct);

        var clusterIp = Api.Get("services", Namespace, "harness-ws-ws1")!["spec"]!["clusterIP"]!.GetValue<string>();
        Assert.Equal($"http://{clusterIp}:3000", status.Upstream);
        Assert.Equal($"http://{clusterIp}:3000", Assert.Single(await runtime.ListInstancesAsync(null, Ct)).Upstream);
    }

    internal static void AssertLabels(JsonObject resource, string workspaceId, string role)
    {
        var labels = resource["metadata"]!["labels"]!.AsObject();
        Assert.Equal("true", labels[RuntimeLabels.Managed]!.GetValue<string>());
        Assert.Equal(KubernetesRuntimeFixture.Agent, labels[RuntimeLabels.Agent]!.GetValue<string>());
        Assert.Equal(workspaceId, labels[RuntimeLabels.Workspace]!.GetValue<string>());
        Assert.Equal(role, labels[RuntimeLabels.Role]!.GetValue<string>());
    }

    internal static async Task<T> Poll<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }
            await Task.Delay(10);
        }
    }
}
