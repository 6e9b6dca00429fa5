using Harness.Testing;

namespace Harness.Cli.Tests.Commands;

public sealed class CommandLineTests
{
    [Fact]
    public async Task Help_ExplainsEverySubcommand()
    {
        await using var harness = HarnessProcess.Start(["--help"]);

        Assert.Equal(0, await harness.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        foreach (var command in new[] { "server", "agent", "dev", "migrate", "version" })
        {
            Assert.Contains(harness.Lines, l => l.TrimStart().StartsWith(command + " ", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("server")]
    [InlineData("agent")]
    [InlineData("dev")]
    [InlineData("migrate")]
    public async Task SubcommandHelp_DescribesItsOptions(string command)
    {
        await using var harness = HarnessProcess.Start([command, "--help"]);

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
}
