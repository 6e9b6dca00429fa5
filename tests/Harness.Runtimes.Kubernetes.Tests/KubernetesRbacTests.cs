using k8s;
using k8s.Models;
using static Harness.Runtimes.Kubernetes.Tests.KubernetesRuntimeFixture;

namespace Harness.Runtimes.Kubernetes.Tests;

/// <summary>The Role in deploy/k8s/base/agent grants exactly the calls the runtime makes: none missing, none spare.</summary>
public sealed class KubernetesRbacTests : KubernetesRuntimeTestBase
{
    [Fact]
    public async Task AgentRole_GrantsExactlyTheCallsTheRuntimeMakes()
    {
        await ExerciseEverythingAsync(Runtime);
        await ExerciseEverythingAsync(Fixture.Runtime(configure: o => o.UpstreamAddress = UpstreamAddress.ClusterIp));

        var made = Api.Requests
            .Where(r => r.Verb is not null)
            .Select(r => (r.Group!, r.Resource!, r.Verb!))
            .ToHashSet();
        var granted = GrantedByRole();

        Assert.Equal(granted.Order().ToList(), made.Order().ToList());
        // Everything else is a non-resource URL that every authenticated user may read.
        Assert.All(Api.Requests.Where(r => r.Verb is null), r => Assert.Equal("/version/", r.Path));
    }

    [Fact]
    public void AgentManifests_NameTheRoleServiceAccountAndArchivesClaimTheRuntimeUses()
    {
        var objects = new[] { "serviceaccount.yaml", "rolebinding.yaml", "archives-pvc.yaml", "deployment.yaml" }
            .SelectMany(f => KubernetesYaml.LoadAllFromString(File.ReadAllText(Manifest(f))))
            .ToList();
        var binding = objects.OfType<V1RoleBinding>().Single();
        var deployment = objects.OfType<V1Deployment>().Single();
        var claim = objects.OfType<V1PersistentVolumeClaim>().Single();
        var defaults = new KubernetesRuntimeOptions();

        Assert.Equal("harness-agent", binding.RoleRef.Name);
        Assert.Equal(objects.OfType<V1ServiceAccount>().Single().Metadata.Name, binding.Subjects.Single().Name);
        Assert.Equal(binding.Subjects.Single().Name, deployment.Spec.Template.Spec.ServiceAccountName);
        Assert.Equal(defaults.ArchivesClaimName, claim.Metadata.Name);
        var agent = deployment.Spec.Template.Spec.Containers.Single();
        var mount = agent.VolumeMounts.Single(m => m.Name == "archives");
        Assert.Equal(defaults.ArchiveDir, mount.MountPath);
        Assert.Equal(mount.MountPath, agent.Env.Single(e => e.Name == "Agent__Workspaces__Kubernetes__ArchiveDir").Value);
        Assert.Equal("agent-key", agent.Env.Single(e => e.Name == "HARNESS_AGENT_KEY").ValueFrom.SecretKeyRef.Key);
    }

    private async Task ExerciseEverythingAsync(KubernetesWorkspaceRuntime runtime)
    {
        Api.KnownImages["nginx:1.28"] = true;
        await runtime.ProbeAsync(Ct);
        await runtime.CreateVolumeAsync("ws1", Ct);
        await runtime.CreateVolumeAsync("ws1", Ct);
        await runtime.StartInstanceAsync("ws1", Spec(), Ct);
        await runtime.StartInstanceAsync("ws1", Spec(image: "nginx:1.28", port: 9000), Ct);
        await runtime.GetInstanceAsync("ws1", Ct);
        await runtime.ListInstancesAsync(null, Ct);
        await runtime.ListVolumesAsync(Ct);
        using var archive = new MemoryStream();
        await runtime.ArchiveVolumeAsync("ws1", archive, Ct);
        await Assert.ThrowsAsync<RuntimeException>(() => runtime.DeleteVolumeAsync("ws1", Ct));
        await runtime.DeleteInstanceAsync("ws1", Ct);
        archive.Position = 0;
        await runtime.RestoreVolumeAsync("ws1", archive, Ct);
        await runtime.DeleteVolumeAsync("ws1", Ct);
        await runtime.GetVolumeAsync("ws1", Ct);
    }

    private static HashSet<(string Group, string Resource, string Verb)> GrantedByRole()
    {
        var role = KubernetesYaml.LoadAllFromString(File.ReadAllText(Manifest("role.yaml"))).OfType<V1Role>().Single();
        return role.Rules
            .SelectMany(rule => rule.ApiGroups.SelectMany(g => rule.Resources.SelectMany(r => rule.Verbs.Select(v => (g, r, v)))))
            .ToHashSet();
    }

    internal static string Manifest(string file)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Harness.slnx")))
        {
            directory = directory.Parent;
        }
        return Path.Combine(directory?.FullName ?? throw new InvalidOperationException("Harness.slnx not found above the test binaries"),
            "deploy", "k8s", "base", "agent", file);
    }
}
