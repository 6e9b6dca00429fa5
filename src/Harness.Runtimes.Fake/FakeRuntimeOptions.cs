namespace Harness.Runtimes.Fake;

/// <summary>The fake runtime (<c>Agent:Workspaces:Fake</c>).</summary>
public sealed class FakeRuntimeOptions
{
    /// <summary>Where volumes (folders) and instance records live; they survive an agent restart.</summary>
    public string Root { get; set; } = Path.Combine(Path.GetTempPath(), "harness-fake-runtime");

    /// <summary>Images the fake "has"; any other is <see cref="RuntimeErrorKind.ImageNotFound"/>. Empty: every image.</summary>
    public List<string> Images { get; set; } = [];

    /// <summary>Loopback address instances listen on.</summary>
    public string Host { get; set; } = "127.0.0.1";
}
