using Harness.Cli.Operator;

namespace Harness.Cli.Tests.Operator;

public sealed class FormattingTests
{
    [Theory]
    [InlineData(0.9, "0.9s")]
    [InlineData(9.94, "9.9s")]
    [InlineData(42, "42s")]
    [InlineData(72, "1m12s")]
    [InlineData(-1, "0s")]
    public void Elapsed_ShowsTenthsUnderTenSeconds_ThenWholeUnits(double seconds, string expected) =>
        Assert.Equal(expected, Formatting.Elapsed(TimeSpan.FromSeconds(seconds)));

    [Theory]
    [InlineData(3.4, "3s")]
    [InlineData(3700, "1h01m")]
    [InlineData(200_000, "2d")]
    public void Duration_ShowsWholeUnits(double seconds, string expected) =>
        Assert.Equal(expected, Formatting.Duration(TimeSpan.FromSeconds(seconds)));
}
