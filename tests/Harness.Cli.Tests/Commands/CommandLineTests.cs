using Harness.Testing;

namespace Harness.Cli.Tests.Commands;

public sealed class CommandLineTests
{
    [Fact]
    public async Task Help_ExplainsEverySubcommand()
    {
        await using var harness = HarnessProcess.Start(["--help"]);

        Assert.Equal(0, await harness.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        foreach (var command in new[] { "server", "agent", "dev", "migrate", "version", "workflows", "runs", "devices", "dashboard" })
        {
            Assert.Contains(harness.Lines, l => l.TrimStart().StartsWith(command + " ", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("server")]
    [InlineData("agent")]
    [InlineData("dev")]
    [InlineData("migrate")]
    [InlineData("workflows push")]
    [InlineData("runs create")]
    [InlineData("devices list")]
    public async Task SubcommandHelp_DescribesItsOptions(string command)
    {
        await using var harness = HarnessProcess.Start([.. command.Split(' '), "--help"]);

        Assert.Equal(0, await harness.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("Usage:", harness.Output);
        Assert.Contains("Options:", harness.Output);
    }

    [Fact]
    public async Task Version_PrintsTheVersion()
    {
        await using var harness = HarnessProcess.Start(["version"]);

        Assert.Equal(0, await harness.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Matches(@"^harness \d+\.\d+\.\d+ \(\.NET", harness.Lines.First());
    }

    [Fact]
    public async Task UnknownOption_FailsWithUsage()
    {
        await using var harness = HarnessProcess.Start(["server", "--log-format", "xml"]);

        Assert.NotEqual(0, await harness.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("xml", harness.Output);
    }

    [Fact]
    public async Task Server_WithInvalidSettings_ListsEveryErrorAndExits2()
    {
        await using var harness = HarnessProcess.Start(["server", "--urls", $"http://127.0.0.1:{HarnessProcess.FreePort()}"],
            new Dictionary<string, string?> { ["HARNESS_ADMIN_TOKEN"] = "short", ["ONLINE_WINDOW_SEC"] = "0" });

        Assert.Equal(2, await harness.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(harness.Lines, l => l.Contains("Harness:AdminToken", StringComparison.Ordinal));
        Assert.Contains(harness.Lines, l => l.Contains("Harness:OnlineWindowSec", StringComparison.Ordinal));
        Assert.DoesNotContain("Unhandled exception", harness.Output);
    }

    [Fact]
    public async Task Migrate_UnreachableDatabase_SaysSoAndExits2()
    {
        await using var harness = HarnessProcess.Start(
            ["migrate", "--database-provider", "postgres", "--database-url", $"postgres://nobody:secret@127.0.0.1:{HarnessProcess.FreePort()}/harness"]);

        Assert.Equal(2, await harness.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(harness.Lines, l => l.StartsWith("harness: cannot use the database", StringComparison.Ordinal));
        Assert.DoesNotContain("secret", harness.Output);
    }
}
