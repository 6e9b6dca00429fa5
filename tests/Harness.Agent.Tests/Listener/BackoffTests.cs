using Harness.Agent.Listener;

namespace Harness.Agent.Tests.Listener;

public sealed class BackoffTests
{
    [Fact]
    public void Ceiling_DoublesFromInitial_AndCapsAtMax()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), new Random(1));

        var ceilings = Enumerable.Range(1, 9).Select(a => backoff.Ceiling(a).TotalSeconds);

        Assert.Equal([1, 2, 4, 8, 16, 32, 60, 60, 60], ceilings);
        Assert.Equal(TimeSpan.FromSeconds(60), backoff.Ceiling(10_000));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(42)]
    public void Next_StaysBetweenHalfAndAllOfTheCeiling(int seed)
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30), new Random(seed));

        for (var attempt = 1; attempt < 20; attempt++)
        {
            var delay = backoff.Next(attempt);
            var ceiling = backoff.Ceiling(attempt);
            Assert.InRange(delay, ceiling / 2, ceiling);
        }
    }

    [Fact]
    public void Next_IsJittered()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), new Random(3));

        var delays = Enumerable.Range(0, 20).Select(_ => backoff.Next(5)).Distinct().Count();

        Assert.True(delays > 15, $"only {delays} distinct delays in 20 draws");
    }
}
