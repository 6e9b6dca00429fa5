using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Workflows;

namespace Harness.Cli.Tests.Operator;

/// <summary>The repository's example workflow, found by walking up to Harness.slnx.</summary>
internal static class Example
{
    public static string Path()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Harness.slnx")))
            {
                return System.IO.Path.Combine(dir.FullName, "examples", "workflows", "login-and-capture.json");
            }
        }
        throw new InvalidOperationException("Harness.slnx not found above the test folder");
    }

    public static WorkflowDefinition Load() =>
        JsonSerializer.Deserialize(File.ReadAllText(Path()), HarnessJsonContext.Default.WorkflowDefinition)!;
}
