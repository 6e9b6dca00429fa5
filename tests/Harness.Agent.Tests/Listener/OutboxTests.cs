using System.Net;
using System.Text.Json;
using Harness.Agent.Listener;
using Harness.Agent.Tests.Fakes;
using Harness.Client;
using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Tests.Listener;

public sealed class OutboxTests : IDisposable
{
    private const string Accepted = """{"accepted":1,"duplicates":0,"ignored":0,"results":[]}""";

    private readonly string _stateDir = Path.Combine(Path.GetTempPath(), $"harness-outbox-{Guid.NewGuid():N}");
    private readonly SignallingTimeProvider _time = new();
    private readonly CapturingLoggerProvider _logs = new();
    private readonly ILoggerFactory _loggers;
    private readonly IOptions<AgentOptions> _options;

    public OutboxTests()
    {
        _loggers = LoggerFactory.Create(b => b.AddProvider(_logs));
        _options = Options.Create(new AgentOptions { Name = "PC-01", StateDir = _stateDir, ApiKey = "hak_0011223344556677.secret" });
    }

    public void Dispose()
    {
        _loggers.Dispose();
        Directory.Delete(_stateDir, recursive: true);
    }

    private FileOutbox NewOutbox() => new(_options, _loggers.CreateLogger<FileOutbox>());

    private OutboxSender NewSender(FileOutbox outbox, RecordingHandler handler)
    {
        var client = new HarnessNodeClient(new HttpClient(handler) { BaseAddress = new Uri("http://127.0.0.1:5080") });
        return new OutboxSender(outbox, client, new AgentCredentials(_options, client, NullLogger<AgentCredentials>.Instance), _options,
            new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8), new Random(7)), _time, _loggers.CreateLogger<OutboxSender>());
    }

    private static CallbackEvent Event(string type = CallbackTypes.DeviceStatus) =>
        new(Guid.NewGuid().ToString(), type, new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero), Guid.NewGuid(), "dev-1", 1, "running");

    private static IReadOnlyList<string> EventIds(RecordedRequest request) =>
        [.. JsonSerializer.Deserialize(request.Body, HarnessJsonContext.Default.CallbackBatch)!.Events!.Select(e => e.EventId!)];

    [Fact]
    public async Task Enqueued_Events_SurviveARestart_AndAreSentInOrderWithTheirIds()
    {
        var before = NewOutbox();
        var events = new List<CallbackEvent> { Event(), Event(), Event() };
        foreach (var e in events)
        {
            await before.EnqueueAsync(e, default);
        }
        Assert.Equal(3, Directory.GetFiles(before.EventsDir, "*.json").Length);
        Assert.Empty(Directory.GetFiles(before.EventsDir, "*.tmp"));

        var after = NewOutbox(); // a new process on the same state dir
        events.Add(Event());
        await after.EnqueueAsync(events[^1], default);
        Assert.Equal(4, after.PendingCount);
        Assert.True(after.IsPending(events[0].EventId!));
        var handler = new RecordingHandler(_ => RecordingHandler.Json(Accepted));
        await NewSender(after, handler).SendPendingAsync(default);

        var request = Assert.Single(handler.Requests);
        Assert.Equal(Routes.NodesCallback, request.Path);
        Assert.Equal("hak_0011223344556677.secret", request.Bearer);
        Assert.Equal(events.Select(e => e.EventId!), EventIds(request));
        Assert.Equal(0, after.PendingCount);
        Assert.False(after.IsPending(events[0].EventId!));
        Assert.Empty(Directory.GetFiles(after.EventsDir));
    }

    [Fact]
    public async Task PendingTerminalReports_ListTasksWhoseFinalStatusIsUndelivered()
    {
        var outbox = NewOutbox();
        var run = Guid.NewGuid();
        await outbox.EnqueueAsync(Event() with { RunId = run, Status = "running" }, default);
        var final = Event() with { RunId = run, Status = "succeeded" };
        await outbox.EnqueueAsync(final, default);

        var reports = NewOutbox().PendingTerminalReports();

        Assert.Equal([(new TaskRef(run, "dev-1", 1), final.EventId!)], reports);
    }

    [Fact]
    public async Task ManyEvents_GoInOrderedBatchesOfAtMost100()
    {
        var outbox = NewOutbox();
        var ids = new List<string>();
        for (var i = 0; i < 250; i++)
        {
            var e = Event();
            ids.Add(e.EventId!);
            await outbox.EnqueueAsync(e, default);
        }
        var handler = new RecordingHandler(_ => RecordingHandler.Json(Accepted));

        await NewSender(outbox, handler).SendPendingAsync(default);

        var batches = handler.Requests.Select(EventIds).ToList();
        Assert.Equal([100, 100, 50], batches.Select(b => b.Count));
        Assert.Equal(ids, batches.SelectMany(b => b));
    }

    public static TheoryData<int> TransientStatuses => [0, 401, 403, 500, 503];

    [Theory]
    [MemberData(nameof(TransientStatuses))]
    public async Task TransientFailure_KeepsEverything_AndTheRetryCarriesTheSameEventIds(int status)
    {
        var outbox = NewOutbox();
        await outbox.EnqueueAsync(Event(), default);
        await outbox.EnqueueAsync(Event(), default);
        var calls = 0;
        var handler = new RecordingHandler(_ => ++calls == 1
            ? status == 0 ? throw new HttpRequestException("Connection refused") : RecordingHandler.Problem((HttpStatusCode)status, "try later")
            : RecordingHandler.Json(Accepted));
        var sender = NewSender(outbox, handler);

        await Assert.ThrowsAnyAsync<Exception>(() => sender.SendPendingAsync(default));
        Assert.Equal(2, outbox.PendingCount);
        await sender.SendPendingAsync(default);

        var requests = handler.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Equal(requests[0].Body, requests[1].Body);
        Assert.Equal(0, outbox.PendingCount);
    }

    [Fact]
    public async Task RefusedBatch_IsResentOneByOne_AndOnlyTheBadEventIsDeadLettered()
    {
        var outbox = NewOutbox();
        var good1 = Event();
        var bad = Event("device.bogus");
        var good2 = Event();
        foreach (var e in new[] { good1, bad, good2 })
        {
            await outbox.EnqueueAsync(e, default);
        }
        var handler = new RecordingHandler(r => r.Text.Contains("device.bogus", StringComparison.Ordinal)
            ? RecordingHandler.Problem(HttpStatusCode.BadRequest, "events[1].type: unknown")
            : RecordingHandler.Json(Accepted));

        await NewSender(outbox, handler).SendPendingAsync(default);

        Assert.Equal([3, 1, 1, 1], handler.Requests.Select(r => EventIds(r).Count));
        Assert.Equal(0, outbox.PendingCount);
        var dead = Directory.GetFiles(outbox.DeadDir).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(2, dead.Count);
        Assert.All(dead, d => Assert.Contains(bad.EventId!, d, StringComparison.Ordinal));
        Assert.Contains("events[1].type: unknown", await File.ReadAllTextAsync(Directory.GetFiles(outbox.DeadDir, "*.error.txt").Single()), StringComparison.Ordinal);
        Assert.Contains(_logs.Entries, l => l.Level == LogLevel.Error && l.Message.Contains("refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Artifact_IsUploadedAsRawBodyWithItsQuery_AndDeletedAfterwards()
    {
        var outbox = NewOutbox();
        var query = new Dictionary<string, string> { ["event_id"] = "a1b2", ["run_id"] = "r-1", ["device_id"] = "dev-1", ["step_id"] = "shot", ["kind"] = "screenshot", ["taken_at"] = "2026-11-01T12:00:00.0000000+00:00" };
        await outbox.EnqueueArtifactAsync(new OutboxArtifact(query, "image/png", FakeDeviceAdapter.Png, 30000), default);
        var handler = new RecordingHandler(_ => RecordingHandler.Json("{}", HttpStatusCode.Created));

        await NewSender(NewOutbox(), handler).SendPendingAsync(default);

        var upload = Assert.Single(handler.Requests);
        Assert.Equal(Routes.NodesArtifacts, upload.Path);
        Assert.Equal("image/png", upload.ContentType);
        Assert.Equal(FakeDeviceAdapter.Png, upload.Body);
        Assert.Contains("event_id=a1b2", upload.Query, StringComparison.Ordinal);
        Assert.Contains("taken_at=2026-11-01T12:00:00.0000000+00:00", upload.Query, StringComparison.Ordinal);
        Assert.DoesNotContain("upload_timeout_ms", upload.Query, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(outbox.ArtifactsDir));
    }

    [Fact]
    public async Task FinalStatus_IsSentOnlyAfterTheScreenshotsBeforeIt_EvenWhenTheUploadMustBeRetried()
    {
        var outbox = NewOutbox();
        await outbox.EnqueueArtifactAsync(new OutboxArtifact(new Dictionary<string, string> { ["event_id"] = "shot" }, "image/png", [1], 30000), default);
        await outbox.EnqueueAsync(Event(), default);
        var uploads = 0;
        var handler = new RecordingHandler(r => r.Path == Routes.NodesArtifacts
            ? ++uploads == 1 ? RecordingHandler.Problem(HttpStatusCode.ServiceUnavailable, "busy") : RecordingHandler.Json("{}", HttpStatusCode.Created)
            : RecordingHandler.Json(Accepted));
        var sender = NewSender(outbox, handler);

        await Assert.ThrowsAsync<HarnessApiException>(() => sender.SendPendingAsync(default));
        Assert.All(handler.Requests, r => Assert.Equal(Routes.NodesArtifacts, r.Path)); // the event waited
        await sender.SendPendingAsync(default);

        Assert.Equal([Routes.NodesArtifacts, Routes.NodesArtifacts, Routes.NodesCallback], handler.Requests.Select(r => r.Path));
        Assert.Equal(0, outbox.PendingCount);
    }

    [Fact]
    public async Task Artifact_TooLarge_IsDeadLettered_WhileAServerErrorIsRetried()
    {
        var outbox = NewOutbox();
        await outbox.EnqueueArtifactAsync(new OutboxArtifact(new Dictionary<string, string> { ["event_id"] = "big" }, "image/png", [1, 2, 3], 30000), default);
        await outbox.EnqueueArtifactAsync(new OutboxArtifact(new Dictionary<string, string> { ["event_id"] = "flaky" }, "image/png", [4], 30000), default);
        var flaky = 0;
        var handler = new RecordingHandler(r => r.Query.Contains("event_id=big", StringComparison.Ordinal)
            ? RecordingHandler.Problem(HttpStatusCode.RequestEntityTooLarge, "limit is 10 MB")
            : ++flaky == 1 ? RecordingHandler.Problem(HttpStatusCode.ServiceUnavailable, "busy") : RecordingHandler.Json("{}"));
        var sender = NewSender(outbox, handler);

        await Assert.ThrowsAsync<HarnessApiException>(() => sender.SendPendingAsync(default));
        Assert.Equal(1, outbox.PendingCount);
        Assert.True(outbox.IsPending("flaky"));
        await sender.SendPendingAsync(default);

        Assert.Equal(0, outbox.PendingCount);
        Assert.Equal(3, Directory.GetFiles(outbox.DeadDir).Length); // body, metadata, reason
    }

    [Fact]
    public async Task SenderLoop_BacksOffWhileTheServerIsDown_ThenDeliversEverything_AndWakesOnNewEvents()
    {
        var outbox = NewOutbox();
        await outbox.EnqueueAsync(Event(), default);
        var calls = 0;
        var handler = new RecordingHandler(_ => ++calls <= 2 ? throw new HttpRequestException("Connection refused") : RecordingHandler.Json(Accepted));
        var sender = NewSender(outbox, handler);
        var expected = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8), new Random(7));

        await sender.StartAsync(default);
        await handler.NextAsync();
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var delay = expected.Next(attempt);
            Assert.Equal(delay, await _time.TimerArmedAsync());
            Assert.Equal(1, outbox.PendingCount);
            _time.Advance(delay);
            await handler.NextAsync();
        }
        await _time.TimerArmedAsync(); // idle: waiting for new events
        Assert.Equal(0, outbox.PendingCount);

        await outbox.EnqueueAsync(Event(), default);
        await handler.NextAsync(); // no clock advance needed
        await sender.StopAsync(default);

        Assert.Equal(0, sender.ConsecutiveFailures);
        Assert.Contains(_logs.Entries, l => l.Level == LogLevel.Warning && l.Message.Contains("retrying in", StringComparison.Ordinal));
    }
}
