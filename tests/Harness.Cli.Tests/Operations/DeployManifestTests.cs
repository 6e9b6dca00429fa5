using System.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace Harness.Cli.Tests.Operations;

/// <summary>
/// Every Kustomize overlay renders with the real <c>kubectl kustomize</c>, and what it renders holds
/// the rules an operator relies on: probes, resources, a locked-down security context, no secret
/// values, and the Argo CD apps point at overlays that exist.
/// </summary>
public sealed class DeployManifestTests
{
    private static readonly string[] OverlayNames = ["dev", "prod"];

    public static TheoryData<string> Overlays => [.. OverlayNames];

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Overlay_Renders_WithProbesResourcesAndALockedDownSecurityContext(string overlay)
    {
        var documents = await RenderAsync(Path.Combine(Repository.Root, "deploy", "k8s", "overlays", overlay));

        var kinds = documents.Select(d => $"{Text(d, "kind")}/{Text(d, "metadata", "name")}").ToList();
        Assert.Contains("Deployment/harness-server", kinds);
        Assert.Contains("Deployment/harness-agent", kinds);
        Assert.Contains("ServiceAccount/harness-agent", kinds);
        Assert.Contains("Role/harness-agent", kinds);
        Assert.Contains("RoleBinding/harness-agent", kinds);
        Assert.Contains(kinds, k => k.StartsWith("ConfigMap/harness-server-", StringComparison.Ordinal));
        // Secrets come from the operator or a secret store, never from the repository.
        Assert.DoesNotContain(kinds, k => k.StartsWith("Secret/", StringComparison.Ordinal));
        Assert.All(documents, d => Assert.Equal("harness", Text(d, "kind") == "Namespace" ? Text(d, "metadata", "name") : Text(d, "metadata", "namespace")));

        foreach (var deployment in documents.Where(d => Text(d, "kind") == "Deployment"))
        {
            var name = Text(deployment, "metadata", "name");
            var pod = Map(deployment, "spec", "template", "spec");
            Assert.Equal("true", Text(pod, "securityContext", "runAsNonRoot"));
            foreach (YamlMappingNode container in (YamlSequenceNode)pod["containers"])
            {
                Assert.Equal("true", Text(container, "securityContext", "readOnlyRootFilesystem"));
                Assert.Equal("false", Text(container, "securityContext", "allowPrivilegeEscalation"));
                Assert.Equal(["ALL"], ((YamlSequenceNode)Map(container, "securityContext", "capabilities")["drop"]).Select(n => n.ToString()));
                Assert.NotNull(Text(container, "resources", "requests", "memory"));
                Assert.NotNull(Text(container, "resources", "limits", "memory"));
                Assert.StartsWith("ghcr.io/", Text(container, "image"), StringComparison.Ordinal);
                if (name == "harness-server")
                {
                    Assert.Equal("/health/live", Text(container, "livenessProbe", "httpGet", "path"));
                    Assert.Equal("/health/ready", Text(container, "readinessProbe", "httpGet", "path"));
                }
                foreach (YamlMappingNode env in container.Children.TryGetValue("env", out var list) ? (YamlSequenceNode)list : new YamlSequenceNode())
                {
                    var variable = Text(env, "name")!;
                    if (variable.Contains("KEY", StringComparison.Ordinal) || variable.Contains("TOKEN", StringComparison.Ordinal)
                        || variable.Contains("SECRET", StringComparison.Ordinal) || variable.Contains("DATABASE_URL", StringComparison.Ordinal))
                    {
                        Assert.True(Text(env, "value") is null, $"{name}: {variable} must come from a Secret (secretKeyRef), not a literal");
                        Assert.NotNull(Text(env, "valueFrom", "secretKeyRef", "name"));
                    }
                }
            }
        }
        var server = documents.Single(d => Text(d, "kind") == "Deployment" && Text(d, "metadata", "name") == "harness-server");
        Assert.Equal(overlay == "prod" ? "3" : "1", Text(server, "spec", "replicas"));
    }

    [Fact]
    public async Task ArgoCd_RootApp_ListsOneChildAppPerOverlay_EachPointingAtAnOverlayThatRenders()
    {
        var root = (await ParseAsync(Path.Combine(Repository.Root, "deploy", "argocd", "root.yaml"))).Single();
        Assert.Equal("Application", Text(root, "kind"));
        var apps = Path.Combine(Repository.Root, Text(root, "spec", "source", "path")!);
        var children = new List<YamlMappingNode>();
        foreach (var file in Directory.GetFiles(apps, "*.yaml"))
        {
            children.AddRange(await ParseAsync(file));
        }
        Assert.All(children, c => Assert.Equal("Application", Text(c, "kind")));
        var paths = children.Select(c => Text(c, "spec", "source", "path")!).Order().ToList();
        Assert.Equal(OverlayNames.Select(o => $"deploy/k8s/overlays/{o}").Order(), paths);
    }

    private static async Task<List<YamlMappingNode>> RenderAsync(string directory)
    {
        var info = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("kustomize");
        info.ArgumentList.Add(directory);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"kubectl kustomize {directory} failed:\n{await stderr}");
        return Parse(await stdout);
    }

    private static async Task<List<YamlMappingNode>> ParseAsync(string file) => Parse(await File.ReadAllTextAsync(file));

    private static List<YamlMappingNode> Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
    }

    private static YamlMappingNode Map(YamlMappingNode node, params string[] path) =>
        path.Aggregate(node, (n, key) => (YamlMappingNode)n[key]);

    private static string? Text(YamlMappingNode node, params string[] path)
    {
        YamlNode current = node;
        foreach (var key in path)
        {
            if (current is not YamlMappingNode map || !map.Children.TryGetValue(key, out var next))
            {
                return null;
            }
            current = next;
        }
        return (current as YamlScalarNode)?.Value;
    }
}

/// <summary>The repository's root, found from the test binaries.</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Harness.slnx")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("Harness.slnx not found above the test binaries");
    }
}
