using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Harness.Agent.Tests.Listener;

/// <summary>
/// A fake clock that reports each timer created on it, so a test advances time only once the code
/// under test is really waiting (advancing earlier would start its wait from the new time).
/// </summary>
internal sealed class SignallingTimeProvider() : FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero))
{
    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _timers.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>Waits (in real time, bounded) until the code under test arms its next timer; returns its due time.</summary>
    public async Task<TimeSpan> TimerArmedAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _timers.Reader.ReadAsync(timeout.Token);
    }
}
