using System.Text.Json;
using Harness.Cli.Tests.Operator;
using Harness.Contracts.Workflows;

namespace Harness.Cli.Tests.Commands.Workflows;

public sealed class ExampleWorkflowTests
{
    [Fact]
    public void LoginAndCapture_HasTheReadmeSteps_AndNoVersion()
    {
        var workflow = Example.Load();

        Assert.Equal("login-and-capture", workflow.Name);
        Assert.Null(workflow.Version);
        Assert.DoesNotContain("\"version\"", File.ReadAllText(Example.Path()));
        Assert.Equal(
            [StepTypes.Preflight, StepTypes.LaunchApp, StepTypes.InputText, StepTypes.Screenshot, StepTypes.Upload, StepTypes.Report],
            workflow.Steps!.Select(s => s.Type));
        Assert.Equal("com.example.app", workflow.Steps![1].Params!["package"].GetString());
        Assert.Equal("{{vars.user}}", workflow.Steps![2].Params!["text"].GetString());
        Assert.All(workflow.Steps!, s => Assert.Contains(s.Type, StepTypes.Device));
        Assert.Equal(workflow.Steps!.Count, workflow.Steps!.Select(s => s.Id).Distinct().Count());
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(File.ReadAllText(Example.Path())).RootElement.ValueKind);
    }
}
