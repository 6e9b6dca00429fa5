using Harness.Testing;

namespace Harness.Cli.Tests.Commands.Jobs;

/// <summary>
/// <c>harness jobs run</c> as a user types it, against a real <c>harness dev</c> whose agent runs sandbox jobs on
/// bubblewrap: output streamed, the secret masked, the command's exit code propagated.
/// </summary>
public sealed class JobsRunProcessTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"harness-jobs-cli-{Guid.NewGuid():N}");

    [Fact]
    public async Task JobsRun_StreamsOutput_MasksTheSecret_AndExitsWithTheCommandsCode()
    {
        var url = $"http://127.0.0.1:{HarnessProcess.FreePort()}";
        await using var dev = HarnessProcess.Start(["dev", "--data-dir", _dataDir, "--urls", url, "--devices", "0", "--sandbox", "bubblewrap"]);
        var token = (await dev.WaitForLineAsync(l => l.Contains("Admin token", StringComparison.Ordinal), TimeSpan.FromSeconds(90)))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Last();
        await dev.WaitForLineAsync(l => l.Contains("Agent online", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.Contains(dev.Lines, l => l.Contains("Sandbox jobs    bubblewrap backend", StringComparison.Ordinal));
        var environment = new Dictionary<string, string?>
        {
            ["HARNESS_URL"] = url,
            ["HARNESS_TOKEN"] = token,
            ["CLI_SECRET"] = "cli-Secret-31337",
        };

        await using var run = HarnessProcess.Start(
            ["jobs", "run", "--image", "host", "--secret-env", "CLI_SECRET", "--timeout", "60", "--",
             "sh", "-c", "echo out-line; echo err-line >&2; echo secret=$CLI_SECRET; exit 5"], environment);
        var exit = await run.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(5, exit);
        Assert.Contains("out-line", run.Lines);
        Assert.Contains("err-line", run.Lines);
        Assert.Contains("secret=***", run.Lines);
        Assert.DoesNotContain("cli-Secret-31337", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("cli-Secret-31337", dev.Output, StringComparison.Ordinal);
        Assert.Contains(run.Lines, l => l.Contains("exit code 5", StringComparison.Ordinal));

        dev.Signal(HarnessProcess.SigTerm);
        Assert.Equal(0, await dev.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
