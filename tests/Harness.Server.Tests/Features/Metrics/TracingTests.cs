using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Runs;
using Harness.Server.Features.Metrics;
using Harness.Server.Tests.Features.Runs;
using Harness.Testing;

namespace Harness.Server.Tests.Features.Metrics;

/// <summary>An agent's W3C traceparent carries its task's trace into the server's handling of its callback.</summary>
public sealed class TracingTests : RunTest, IDisposable
{
    private readonly ConcurrentBag<Activity> _stopped = [];
    private readonly ActivityListener _listener = new();

    public TracingTests() : base(Providers.Sqlite)
    {
        _listener.ShouldListenTo = source => source.Name is ServerTelemetry.SourceName or "Microsoft.AspNetCore";
        _listener.Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded;
        _listener.ActivityStopped = _stopped.Add;
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task Callback_WithTraceparent_IsHandledInTheAgentsTrace()
    {
        var key = await FarmAsync("PC-01", 1);
        var workflow = await PushAsync(Capture);
        await RunAsync(workflow.WorkflowId);
        var task = Assert.Single((await PullAsync(key, 1)).Tasks);
        var trace = ActivityTraceId.CreateRandom();
        var parent = ActivitySpanId.CreateRandom();

        using var agent = Server.Agent(key);
        using var request = new HttpRequestMessage(HttpMethod.Post, Routes.NodesCallback)
        {
            Content = JsonContent.Create(new CallbackBatch([Status(task, DeviceRunStatus.Preflight)]), HarnessJsonContext.Default.CallbackBatch),
        };
        request.Headers.Add("traceparent", $"00-{trace}-{parent}-01");
        (await agent.SendAsync(request)).EnsureSuccessStatusCode();

        var apply = Assert.Single(_stopped, a => a.OperationName == "callbacks.apply" && a.TraceId == trace);
        Assert.Equal(1, apply.GetTagItem("harness.events"));
        // The server ends the request's own activity after the response has gone out: the client can be first.
        await Eventually.UntilAsync(() => _stopped.Any(a => a.Source.Name == "Microsoft.AspNetCore" && a.TraceId == trace), "the request's activity ended");
        var incoming = Assert.Single(_stopped, a => a.Source.Name == "Microsoft.AspNetCore" && a.TraceId == trace);
        Assert.Equal(parent, incoming.ParentSpanId);
        Assert.Equal(incoming.SpanId, apply.ParentSpanId);
    }
}
