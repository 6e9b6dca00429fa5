using Harness.Server.Features.Dispatch;

namespace Harness.Server.Tests.Features.Dispatch;

public sealed class DispatchSignalTests
{
    private readonly DispatchSignal _signal = new();
    private readonly Guid _a = Guid.NewGuid();
    private readonly Guid _b = Guid.NewGuid();

    [Fact]
    public void NewsForAnAgent_WakesThatAgent_AndNobodyElse()
    {
        var everyone = _signal.Changed;
        var a = _signal.ChangedFor(_a);
        var b = _signal.ChangedFor(_b);

        _signal.Notify([_a]);

        Assert.True(a.IsCompleted);
        Assert.False(b.IsCompleted);
        Assert.False(everyone.IsCompleted);
        Assert.False(_signal.ChangedFor(_a).IsCompleted, "the next wait is for the next news");
    }

    [Fact]
    public void LastNewsFor_AnAgent_IsTheLatestNewsForItOrForEveryone()
    {
        Assert.Equal(0, _signal.LastNewsFor(_a));

        _signal.Notify([_a]);
        var forA = _signal.Sequence;
        _signal.WakeLocal([_b]);

        Assert.Equal(forA, _signal.LastNewsFor(_a));
        Assert.Equal(_signal.Sequence, _signal.LastNewsFor(_b));
        _signal.Notify();
        Assert.Equal(_signal.Sequence, _signal.LastNewsFor(_a));
        Assert.Equal(_signal.Sequence, _signal.LastNewsFor(_b));
    }

    [Fact]
    public void NewsForEveryone_CountsAGeneration_AndLeavesTheAgentsOwnWaitsPending()
    {
        var everyone = _signal.Changed;
        var a = _signal.ChangedFor(_a);
        var generation = _signal.Generation;

        _signal.Notify();

        Assert.True(everyone.IsCompleted);
        Assert.False(a.IsCompleted);
        Assert.Equal(generation + 1, _signal.Generation);
    }

    [Fact]
    public void NewsForOtherReplicas_CoalescesBursts_AndTurnsIntoNewsForEveryoneWhenItNamesTooMany()
    {
        _signal.Notify([_a]);
        _signal.Notify([_a, _b]);
        var (forAll, agents) = _signal.TakeNews();
        Assert.False(forAll);
        Assert.Equal(new[] { _a, _b }.Order(), agents.Order());
        var none = _signal.TakeNews();
        Assert.False(none.ForAll);
        Assert.Empty(none.Agents);

        _signal.Notify(Enumerable.Range(0, DispatchSignal.MaxNamedAgents + 1).Select(_ => Guid.NewGuid()));
        Assert.True(_signal.TakeNews().ForAll);

        _signal.Notify([_a]);
        _signal.Notify();
        var last = _signal.TakeNews();
        Assert.True(last.ForAll);
        Assert.Empty(last.Agents);
    }

    [Fact]
    public void NotificationPayload_NamesTheAgents_AndAnythingElseWakesEveryone()
    {
        var a = _signal.ChangedFor(_a);
        var b = _signal.ChangedFor(_b);
        PostgresDispatchNotifier.Wake(_signal, PostgresDispatchNotifier.Payload(false, [_a]));
        Assert.True(a.IsCompleted);
        Assert.False(b.IsCompleted);

        foreach (var payload in new[] { PostgresDispatchNotifier.Payload(true, []), "", "not-a-guid", $"{_b:N},'; DROP TABLE runs; --" })
        {
            var everyone = _signal.Changed;
            PostgresDispatchNotifier.Wake(_signal, payload);
            Assert.True(everyone.IsCompleted, $"payload '{payload}' should wake every pull");
        }
    }
}
