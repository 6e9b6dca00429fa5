using Harness.Server.Security;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Harness.Server.Tests.Features.Agents;

public sealed class AgentKeyCacheTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly Guid _agent = Guid.NewGuid();

    private AgentKeyCache Cache(string provider) =>
        new(_time, Options.Create(new HarnessServerOptions { Database = new DatabaseOptions { Provider = provider } }));

    [Fact]
    public void OnPostgres_AKeyIsRememberedBriefly_UntilThisReplicaHearsTheOthersChanges()
    {
        var cache = Cache(DatabaseOptions.Postgres);

        Assert.Equal(_time.GetUtcNow() + AgentKeyCache.Lifetime, cache.Remember(cache.Version, "k1", _agent, "PC-01", [1]).Until);
        cache.Listening(true);
        Assert.Null(cache.Find("k1"));
        Assert.Equal(_time.GetUtcNow() + AgentKeyCache.SharedLifetime, cache.Remember(cache.Version, "k1", _agent, "PC-01", [1]).Until);
        cache.Listening(false);
        Assert.Null(cache.Find("k1"));
    }

    [Fact]
    public void OnSqlite_OneProcessMakesEveryChange_SoAKeyIsRememberedLong()
    {
        var cache = Cache(DatabaseOptions.Sqlite);

        cache.Remember(cache.Version, "k1", _agent, "PC-01", [1]);
        _time.Advance(AgentKeyCache.SharedLifetime - TimeSpan.FromSeconds(1));

        Assert.NotNull(cache.Find("k1"));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(cache.Find("k1"));
    }

    [Fact]
    public void AKeyReadBeforeAForgetting_IsUsedOnce_NotRemembered()
    {
        var cache = Cache(DatabaseOptions.Sqlite);
        var version = cache.Version;

        cache.Forget(_agent); // The key was revoked while it was being read.
        var key = cache.Remember(version, "k1", _agent, "PC-01", [1]);

        Assert.Equal(_agent, key.AgentId);
        Assert.Null(cache.Find("k1"));
    }

    [Fact]
    public void ANoticeFromAnotherReplica_ForgetsTheAgentItNames_OrEveryKeyIfItNamesNone()
    {
        var cache = Cache(DatabaseOptions.Sqlite);
        var other = Guid.NewGuid();
        cache.Remember(cache.Version, "k1", _agent, "PC-01", [1]);
        cache.Remember(cache.Version, "k2", other, "PC-02", [2]);

        AgentKeyChanges.Apply(cache, _agent.ToString("N"));
        Assert.Null(cache.Find("k1"));
        Assert.NotNull(cache.Find("k2"));

        AgentKeyChanges.Apply(cache, "'; DROP TABLE agents; --");
        Assert.Null(cache.Find("k2"));
    }
}
