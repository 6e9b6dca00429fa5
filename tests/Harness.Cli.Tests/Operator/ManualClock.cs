namespace Harness.Cli.Tests.Operator;

/// <summary>A clock that moves only when told (each poll delay advances it).</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
