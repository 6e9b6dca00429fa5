namespace Harness.Agent.Tests;

/// <summary>
/// An agent state folder of its own for one test (not created yet, as on a first start), inside a temp
/// folder that is deleted with the test class.
/// </summary>
public sealed class TempStateDir : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harness-agent-").FullName;

    public string Path => System.IO.Path.Combine(_root, "state");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
