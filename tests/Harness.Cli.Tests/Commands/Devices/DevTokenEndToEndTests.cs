using Harness.Testing;

namespace Harness.Cli.Tests.Commands.Devices;

/// <summary>
/// The newcomer's path against the real server: `harness dev` in a folder, then an operator command
/// from the same folder with no --server or --token finds the dev admin token and is let in.
/// </summary>
public sealed class DevTokenEndToEndTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"harness-cli-e2e-{Guid.NewGuid():N}");

    public DevTokenEndToEndTests()
    {
        Directory.CreateDirectory(_folder);
    }

    [Fact]
    public async Task DevicesList_FromTheDevFolder_NeedsNoFlags()
    {
        var url = $"http://127.0.0.1:{HarnessProcess.FreePort()}";
        await using var dev = HarnessProcess.Start(["dev", "--urls", url], workingDirectory: _folder);
        await dev.WaitForLineAsync(l => l.Contains("Agent online", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        await using var list = HarnessProcess.Start(["devices", "list"], new Dictionary<string, string?> { ["HARNESS_URL"] = url, ["HARNESS_TOKEN"] = null }, _folder);
        Assert.Equal(0, await list.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        await using var refused = HarnessProcess.Start(["devices", "list", "--token", "hop_wrong"], new Dictionary<string, string?> { ["HARNESS_URL"] = url }, _folder);
        Assert.Equal(1, await refused.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("harness: 401", refused.Output);
        Assert.Contains("The token from --token was refused.", refused.Output);

        dev.Signal(HarnessProcess.SigTerm);
        Assert.Equal(0, await dev.WaitForExitAsync(TimeSpan.FromSeconds(20)));
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
