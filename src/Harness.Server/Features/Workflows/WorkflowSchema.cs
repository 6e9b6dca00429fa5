namespace Harness.Server.Features.Workflows;

/// <summary>The published JSON Schema of the DSL (<c>workflow.schema.json</c>, embedded in the server).</summary>
public static class WorkflowSchema
{
    public static string Json { get; } = Load();

    private static string Load()
    {
        using var stream = typeof(WorkflowSchema).Assembly.GetManifestResourceStream("Harness.Server.workflow.schema.json")
            ?? throw new InvalidOperationException("workflow.schema.json is not embedded in the server assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
