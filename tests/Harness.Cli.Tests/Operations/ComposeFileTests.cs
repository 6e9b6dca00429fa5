using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Harness.Cli.Tests.Operations;

/// <summary>
/// compose.yml parses, has postgres + server + agent with healthchecks and health-gated start order,
/// takes every secret from the environment (compose refuses to start without it), and
/// .env.example names every variable it reads.
/// </summary>
public sealed partial class ComposeFileTests
{
    private static readonly string[] Secrets = ["POSTGRES_PASSWORD", "HARNESS_ADMIN_TOKEN", "NODE_AGENT_SHARED_SECRET", "HARNESS_RUNTIME_KEY_SECRET"];

    [Fact]
    public async Task Compose_HasHealthcheckedServices_SecretsOnlyFromTheEnvironment_AndEveryVariableInEnvExample()
    {
        var text = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "compose.yml"));
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        var services = (YamlMappingNode)((YamlMappingNode)stream.Documents[0].RootNode)["services"];

        Assert.Equal(["agent", "postgres", "server"], services.Children.Keys.Select(k => k.ToString()).Order());
        foreach (var (name, node) in services.Children)
        {
            var service = (YamlMappingNode)node;
            Assert.True(service.Children.ContainsKey("healthcheck"), $"{name} has no healthcheck");
        }
        Assert.Equal("service_healthy", ((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)services["server"])["depends_on"])["postgres"])["condition"].ToString());
        Assert.Equal("service_healthy", ((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)services["agent"])["depends_on"])["server"])["condition"].ToString());
        Assert.Equal("simulator", Regex.Match(text, @"HARNESS_DEVICE_ADAPTER: \$\{HARNESS_DEVICE_ADAPTER:-(\w+)\}").Groups[1].Value);

        var used = Variable().Matches(text).Select(m => m.Groups[1].Value).ToHashSet();
        foreach (var secret in Secrets)
        {
            // Required: a missing secret stops `docker compose up` with a message instead of running with none.
            Assert.Contains($"${{{secret}:?", text, StringComparison.Ordinal);
            Assert.DoesNotMatch($@"\b{secret}: [^$\s]", text);
        }
        var example = await File.ReadAllTextAsync(Path.Combine(Repository.Root, ".env.example"));
        var documented = Regex.Matches(example, @"^#?\s*([A-Z][A-Z0-9_]+)=", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Empty(used.Except(documented));
        Assert.All(Secrets, s => Assert.Matches($"(?m)^{s}=$", example));
    }

    [GeneratedRegex(@"\$\{([A-Z][A-Z0-9_]*)")]
    private static partial Regex Variable();
}
