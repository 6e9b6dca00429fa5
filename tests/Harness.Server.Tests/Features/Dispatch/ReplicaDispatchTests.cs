using System.Net;
using System.Net.Http.Json;
using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Harness.Server.Security;
using Harness.Server.Tests.Features.Runs;
using Harness.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Harness.Server.Tests.Features.Dispatch;

/// <summary>Two server replicas on one PostgreSQL: news on one wakes the pulls waiting on the other.</summary>
public sealed class ReplicaDispatchTests() : RunTest(Providers.Postgres)
{
    [Fact]
    public async Task RunCreatedOnOneReplica_ReachesAnAgentLongPollingAnother_WithoutWaitingForARecheck()
    {
        var key = await FarmAsync("PC-01", 2);
        var workflow = await PushAsync(Capture);
        await using var replica = await Server.StartReplicaAsync();
        using var agent = replica.Agent(key);

        // The replica's clock is fake and never advances: its re-check timer cannot end this wait,
        // only a notification from the other replica can.
        var waiting = agent.PostAsJsonAsync(Routes.NodesPull, new PullRequest(5, 30_000), Json.PullRequest);
        await Task.Delay(500);
        Assert.False(waiting.IsCompleted);
        await RunAsync(workflow.WorkflowId);

        var response = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        var pulled = (await response.Content.ReadFromJsonAsync(Json.PullResponse))!;
        Assert.Equal(2, pulled.Tasks.Count);
    }

    [Fact]
    public async Task KeyRevokedOnOneReplica_IsRefusedByAnotherThatRememberedIt_WithoutWaitingForItsLifetime()
    {
        var key = await FarmAsync("PC-01", 1);
        Assert.True(SecretKeys.TryParse(key, SecretKeys.AgentPrefix, out var keyId, out _));
        await using var replica = await Server.StartReplicaAsync();
        var cache = replica.Services.GetRequiredService<AgentKeyCache>();
        using var agent = replica.Agent(key);
        async Task<HttpStatusCode> PullAsync() => (await agent.PostAsJsonAsync(Routes.NodesPull, new PullRequest(0, 0), Json.PullRequest)).StatusCode;

        // The replica listens for the others' key changes from a moment after it starts; from then on it
        // remembers a key it checked for longer than the short lifetime.
        await Eventually.UntilAsync(async () => await PullAsync() == HttpStatusCode.OK && cache.Find(keyId)?.Until - replica.Time.GetUtcNow() > AgentKeyCache.Lifetime,
            "the replica remembers the key for longer than its lifetime");

        using var admin = Server.Operator();
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"{Routes.Agents}/PC-01/revoke", null)).StatusCode);

        // The replica's clock is fake and never advances: only the notice from the other replica makes it forget.
        await Eventually.UntilAsync(async () => await PullAsync() == HttpStatusCode.Unauthorized, "the replica refuses the revoked key");
    }
}
