using Harness.Testing;

namespace Harness.Cli.Tests.EndToEnd;

/// <summary>
/// The README's path, as a newcomer takes it: `harness dev` in a folder, then from the same folder,
/// with no --server or --token, list the devices, push the example workflow and run it with --follow.
/// </summary>
public sealed class NewcomerTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"harness-cli-e2e-{Guid.NewGuid():N}");

    public NewcomerTests()
    {
        Directory.CreateDirectory(_folder);
    }

    [Fact]
    public async Task ReadmeExample_RunsOnTheSimulatedFarm_FromTheDevFolder_WithNoFlags()
    {
        var url = $"http://127.0.0.1:{HarnessProcess.FreePort()}";
        await using var dev = HarnessProcess.Start(["dev", "--urls", url], workingDirectory: _folder);
        await dev.WaitForLineAsync(l => l.Contains("Agent online", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        var environment = new Dictionary<string, string?> { ["HARNESS_URL"] = url, ["HARNESS_TOKEN"] = null };
        await using var list = HarnessProcess.Start(["devices", "list"], environment, _folder);
        Assert.Equal(0, await list.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(20, list.Lines.Count(l => l.Contains("SIM-", StringComparison.Ordinal) && l.Contains("Online", StringComparison.Ordinal)));

        await using var push = HarnessProcess.Start(["workflows", "push", ExampleWorkflow()], environment, _folder);
        Assert.Equal(0, await push.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("Pushed login-and-capture v1", push.Output);

        await using var run = HarnessProcess.Start(["runs", "create", "--workflow", "login-and-capture", "--var", "user=alice", "--follow"], environment, _folder);
        Assert.Equal(0, await run.WaitForExitAsync(TimeSpan.FromSeconds(120)));
        Assert.Contains("succeeded: 20 succeeded of 20 devices", run.Output);
        Assert.Equal(20, Directory.GetFiles(Path.Combine(_folder, ".harness", "dev", "artifacts"), "*.png", SearchOption.AllDirectories).Length);

        await using var refused = HarnessProcess.Start(["devices", "list", "--token", "hop_wrong"], new Dictionary<string, string?> { ["HARNESS_URL"] = url }, _folder);
        Assert.Equal(1, await refused.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("harness: 401", refused.Output);
        Assert.Contains("The token from --token was refused.", refused.Output);

        dev.Signal(HarnessProcess.SigTerm);
        Assert.Equal(0, await dev.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }

    /// <summary>The README's example, found by walking up from the test assembly to the checkout.</summary>
    private static string ExampleWorkflow()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "examples", "workflows", "login-and-capture.json");
            if (File.Exists(path))
            {
                return path;
            }
        }
        throw new FileNotFoundException("examples/workflows/login-and-capture.json is not above the test assembly");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
