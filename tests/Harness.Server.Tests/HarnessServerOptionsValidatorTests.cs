namespace Harness.Server.Tests;

public sealed class HarnessServerOptionsValidatorTests
{
    private static HarnessServerOptions Valid() => new() { Database = { Provider = "sqlite", ConnectionString = "Data Source=harness.db" } };

    [Fact]
    public void Defaults_AreValid() =>
        Assert.True(new HarnessServerOptionsValidator().Validate(null, Valid()).Succeeded);

    [Theory]
    [InlineData(-1, 2, "Harness:Dispatch:CallbackWriters: -1 is out of range")]
    [InlineData(65, 2, "Harness:Dispatch:CallbackWriters: 65 is out of range")]
    [InlineData(2, -1, "Harness:Dispatch:ClaimWriters: -1 is out of range")]
    [InlineData(2, 65, "Harness:Dispatch:ClaimWriters: 65 is out of range")]
    public void GroupWriters_OutOfRange_AreRefusedNamingTheSetting(int callbackWriters, int claimWriters, string message)
    {
        var options = Valid();
        options.Dispatch.CallbackWriters = callbackWriters;
        options.Dispatch.ClaimWriters = claimWriters;

        var result = new HarnessServerOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith(message, StringComparison.Ordinal));
    }

    [Fact]
    public void GroupWriters_Zero_TurnsGroupingOff_AndIsValid()
    {
        var options = Valid();
        options.Dispatch.CallbackWriters = 0;
        options.Dispatch.ClaimWriters = 0;

        Assert.True(new HarnessServerOptionsValidator().Validate(null, options).Succeeded);
    }
}
