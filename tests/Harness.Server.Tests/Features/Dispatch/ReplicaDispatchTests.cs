using System.Net.Http.Json;
using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Harness.Server.Tests.Features.Runs;
using Harness.Testing;

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
}
